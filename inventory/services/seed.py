"""The demo of `make run` (manage.py seed_demo): data center and cluster
"Default", the local libvirtd as host "localhost", a directory storage domain
and a VM network, so a first VM gets a disk and a NIC without any clicks."""

from __future__ import annotations

import hypervisor
from core.events import event_record
from inventory.models import Cluster, DataCenter, Host, Network, StorageDomain
from inventory.services.network import default_bridge

DEMO_STORAGE = "local-data"
DEMO_NETWORK = "vm-network"


def demo_seed(*, storage_path: str, host_uri: str = "qemu:///system") -> Host:
    """The demo data center of `make run`: idempotent, so running it twice is
    harmless. Attaching the storage domain and the network is the command's
    part (jobs, once the host is up)."""
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
        name=DEMO_STORAGE, defaults={"data_center": data_center, "path": storage_path}
    )
    # Untagged: an isolated bridge of its own on each host, which needs no
    # Open vSwitch and no uplink; guests on one host reach each other.
    Network.objects.get_or_create(
        data_center=data_center, name=DEMO_NETWORK, defaults={
            "description": "The demo's VM network: an isolated bridge on each host",
            "bridge": default_bridge(name=DEMO_NETWORK, vlan=None),
        },
    )
    if created:
        event_record(code="host.added", target=host, message=f"Host {host.name} ({host_uri}) was added.")
    return host
