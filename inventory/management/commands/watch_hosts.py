"""`manage.py watch_hosts`: the host watcher process of the Procfile."""

from django.core.management.base import BaseCommand

from inventory.watcher import HostWatcher


class Command(BaseCommand):
    help = "Watch every host's libvirt connection; mark a lost host non_responsive at once."

    def handle(self, *args, **options):
        self.stdout.write("Watching hosts' libvirt connections.")
        HostWatcher().run()
