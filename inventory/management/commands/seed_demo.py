from django.conf import settings
from django.core.management.base import BaseCommand

from core.errors import Conflict
from inventory.services import demo_seed, host_refresh


class Command(BaseCommand):
    help = 'Seed data center "Default" with the local libvirtd as host "localhost".'

    def add_arguments(self, parser):
        parser.add_argument("--uri", default="qemu:///system")

    def handle(self, *args, uri, **options):
        storage = settings.VAR_DIR / "storage" / "local-data"
        storage.mkdir(parents=True, exist_ok=True)
        host = demo_seed(storage_path=str(storage), host_uri=uri)
        if host.facts_updated_at is None:
            try:
                job = host_refresh(host=host)
                self.stdout.write(f"Host {host.name} queued for its first refresh (job {job.pk}).")
            except Conflict:
                self.stdout.write(f"Host {host.name} already has its first refresh queued.")
        self.stdout.write(f'Demo data center "Default" ready with host {host.name} ({host.uri}).')
