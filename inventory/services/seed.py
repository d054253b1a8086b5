from __future__ import annotations

import hypervisor
from core.events import event_record
from inventory.models import Cluster, DataCenter, Host, StorageDomain


def demo_seed(*, storage_path: str, host_uri: str = "qemu:///system") -> Host:
    """The demo data center of `make run`: idempotent, so running it twice is
    harmless."""
    hypervisor.validate_uri(host_uri)
    data_center, _ = DataCenter.objects.get_or_create(
        name="Default", defaults={"description": "The default data center"}
    )
    cluster, _ = Cluster.objects.get_or_create(
        name="Default", defaults={"data_center": data_center, "description": "The default cluster"}
    )
    host, created = Host.objects.get_or_create(
        name="localhost", defaults={"cluster": cluster, "uri": host_uri}
    )
    StorageDomain.objects.get_or_create(
        name="local-data", defaults={"data_center": data_center, "path": storage_path}
    )
    if created:
        event_record(code="host.added", target=host, message=f"Host {host.name} ({host_uri}) was added.")
    return host
