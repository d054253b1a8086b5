"""`manage.py seed_demo`: the demo of `make run`, ready for a first VM (host
up and SPM, its data domain and VM network being attached). Idempotent."""

from collections.abc import Callable

from django.conf import settings
from django.core.management.base import BaseCommand

import hypervisor
from core.errors import Conflict, PortalError
from inventory.choices import NetworkStatus, StorageDomainStatus
from inventory.models import Network, StorageDomain
from inventory.services import demo_seed, host_check, host_refresh, network_attach, storage_domain_attach
from inventory.services.seed import DEMO_NETWORK, DEMO_STORAGE


class Command(BaseCommand):
    help = 'Seed data center "Default" with the local libvirtd as host "localhost".'

    def add_arguments(self, parser):
        parser.add_argument("--uri", default="qemu:///system")

    def handle(self, *args, uri, **options):
        storage = settings.VAR_DIR / "storage" / DEMO_STORAGE
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
        data_center = host.cluster.data_center
        self._attach_once("Storage domain", StorageDomain.objects.filter(data_center=data_center, name=DEMO_STORAGE),
                          StorageDomainStatus.UNATTACHED, lambda domain: storage_domain_attach(domain=domain, user=None))
        self._attach_once("Network", Network.objects.filter(data_center=data_center, name=DEMO_NETWORK),
                          NetworkStatus.UNATTACHED, lambda network: network_attach(network=network, user=None))
        self.stdout.write(f'Demo data center "Default" ready with host {host.name} ({host.uri}).')

    def _attach_once(self, label: str, candidates, unattached: str, attach: Callable) -> None:
        """Attach the demo's data domain or VM network while it is unattached
        (a fresh seed), so VMs can be created right away."""
        obj = candidates.first()
        if obj is None or obj.status != unattached:
            return
        try:
            job = attach(obj)
        except PortalError as error:
            self.stdout.write(f"{label} {obj.name} stays unattached for now: {error.detail}")
            return
        self.stdout.write(f"{label} {obj.name} is being attached (job {job.pk}).")
