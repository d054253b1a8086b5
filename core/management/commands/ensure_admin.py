"""`manage.py ensure_admin`: the first administrator, created once by set-up."""

from django.conf import settings
from django.core.management.base import BaseCommand

from core.accounts import admin_ensure


class Command(BaseCommand):
    help = "Create the first administrator once and print its login."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")

    def handle(self, *args, username, **options):
        credentials = settings.VAR_DIR / "admin-credentials"
        username, password = admin_ensure(username=username, credentials_file=credentials)
        if password:
            self.stdout.write(f"Admin login: {username} / {password}   (kept in {credentials})")
        else:
            self.stdout.write(f"Admin login: {username} (password changed since set-up)")
