"""VMs and the world they live in (data center, cluster, hosts, storage, network) for tests."""

import factory

from inventory.choices import HostStatus, NetworkStatus, StorageDomainStatus
from inventory.models import Network
from tests.inventory.factories import ClusterFactory, DataCenterFactory, HostFactory, StorageDomainFactory
from vms.models import OperatingSystem

GIB = 1024**3


class OperatingSystemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OperatingSystem
        django_get_or_create = ("short_id",)

    short_id = "debian11"
    name = "Debian 11"
    family = "linux"
    minimum_memory_mb = 256
    recommended_memory_mb = 1024


def up_host(cluster, name: str, *, memory_mb: int = 8192, sockets: int = 2, cores: int = 2, threads: int = 2):
    cpus = sockets * cores * threads
    half = cpus // 2
    return HostFactory(
        name=name, cluster=cluster, status=HostStatus.UP, memory_mb=memory_mb, cpu_sockets=sockets,
        cpu_cores_per_socket=cores, cpu_threads_per_core=threads, cpu_total=cpus, domain_type="test",
        numa_nodes=[
            {"index": 0, "cpus": list(range(half)), "memory_mb": memory_mb // 2},
            {"index": 1, "cpus": list(range(half, cpus)), "memory_mb": memory_mb // 2},
        ],
    )


def vm_world(*, overcommit: int = 100, hosts: int = 2):
    """A data center ready for VMs: a cluster of up hosts with their facts,
    an active data domain with 100 GiB free and an active VM network."""
    data_center = DataCenterFactory(name="dc1")
    cluster = ClusterFactory(name="cl1", data_center=data_center, memory_overcommit_percent=overcommit)
    host_rows = [up_host(cluster, f"host{n + 1}") for n in range(hosts)]
    domain = StorageDomainFactory(
        name="data1", data_center=data_center, status=StorageDomainStatus.ACTIVE,
        capacity_bytes=200 * GIB, available_bytes=100 * GIB,
    )
    network = Network.objects.create(name="vmnet", data_center=data_center, bridge="br-vmnet",
                                     status=NetworkStatus.ACTIVE)
    return {"data_center": data_center, "cluster": cluster, "hosts": host_rows, "domain": domain,
            "network": network, "os": OperatingSystemFactory()}
