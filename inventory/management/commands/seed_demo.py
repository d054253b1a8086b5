from django.conf import settings
from django.core.management.base import BaseCommand

import hypervisor
from core.errors import Conflict, PortalError
from inventory.choices import StorageDomainStatus
from inventory.models import StorageDomain
from inventory.services import demo_seed, host_check, host_refresh, storage_domain_attach


class Command(BaseCommand):
    help = 'Seed data center "Default" with the local libvirtd as host "localhost".'

    def add_arguments(self, parser):
        parser.add_argument("--uri", default="qemu:///system")

    def handle(self, *args, uri, **options):
        storage = settings.VAR_DIR / "storage" / "local-data"
        storage.mkdir(parents=True, exist_ok=True)
        host = demo_seed(storage_path=str(storage), host_uri=uri)
        if host.facts_updated_at is None:
            # Read here, at once, so the host is up (and the SPM) before the
            # portal serves; the job is the fallback when it cannot be reached yet.
            try:
                host_check(host=host, read_facts=True)
            except hypervisor.HypervisorError as error:
                self.stdout.write(f"Host {host.name} is not answering yet ({error.message}).")
                try:
                    job = host_refresh(host=host)
                    self.stdout.write(f"Host {host.name} queued for its first refresh (job {job.pk}).")
                except Conflict:
                    self.stdout.write(f"Host {host.name} already has its first refresh queued.")
        self._attach_demo_storage()
        self.stdout.write(f'Demo data center "Default" ready with host {host.name} ({host.uri}).')

    def _attach_demo_storage(self) -> None:
        """The demo's data domain is attached once, so VMs can be created right away."""
        domain = StorageDomain.objects.filter(name="local-data").first()
        if domain is None or domain.status != StorageDomainStatus.UNATTACHED:
            return
        try:
            job = storage_domain_attach(domain=domain, user=None)
        except PortalError as error:
            self.stdout.write(f"Storage domain {domain.name} stays unattached for now: {error.detail}")
            return
        self.stdout.write(f"Storage domain {domain.name} is being attached (job {job.pk}).")
