"""Inventory objects for tests, and simulated hosts on libvirt's test driver."""

import factory
from lxml import etree

import hypervisor
from inventory.models import Cluster, DataCenter, Host, Network, StorageDomain
from tests.support.processes import REPO

HOST_FIXTURES = REPO / "tests" / "fixtures" / "hosts"


def simulated_host_uri(name: str = "two-socket-ht.xml") -> str:
    """libvirt's test driver with our own node XML: an independent simulated host."""
    return f"test://{HOST_FIXTURES / name}"


class DataCenterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DataCenter

    name = factory.Sequence(lambda n: f"dc-{n}")


class ClusterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Cluster

    name = factory.Sequence(lambda n: f"cluster-{n}")
    data_center = factory.SubFactory(DataCenterFactory)


class HostFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Host

    name = factory.Sequence(lambda n: f"host-{n}")
    cluster = factory.SubFactory(ClusterFactory)
    uri = factory.Sequence(lambda n: f"qemu+tcp://127.0.0.1:{20000 + n}/system")


class StorageDomainFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StorageDomain

    name = factory.Sequence(lambda n: f"sd-{n}")
    data_center = factory.SubFactory(DataCenterFactory)
    path = factory.Sequence(lambda n: f"/srv/storage/{n}")


def open_vswitch_bridge(host: Host, name: str = "ovsbr0", mtu: int = 1500) -> None:
    """Give a simulated host the network device an Open vSwitch bridge shows
    as through libvirt's interface API (type ethernet)."""
    root = etree.Element("interface", type="ethernet", name=name)
    etree.SubElement(root, "start", mode="onboot")
    etree.SubElement(root, "mtu", size=str(mtu))
    etree.SubElement(root, "mac", address="52:54:00:00:00:42")
    hypervisor.get_connection(host.uri).interfaceDefineXML(etree.tostring(root, encoding="unicode"), 0).create(0)


def nics_on(network: Network, *names: str) -> None:
    """VMs with a NIC on the network (rows of the vms app, which inventory's
    code never imports: it finds them through the reverse relation)."""
    from vms.models import OperatingSystem, Vm, VmNic

    os_type, _ = OperatingSystem.objects.get_or_create(short_id="linux-generic", defaults={"name": "Linux"})
    cluster = network.data_center.clusters.first() or ClusterFactory(data_center=network.data_center)
    for n, name in enumerate(names):
        vm = Vm.objects.create(name=name, data_center=network.data_center, cluster=cluster, os_type=os_type,
                               memory_mb=256)
        VmNic.objects.create(vm=vm, index=0, network=network, mac=f"52:54:00:00:01:{n:02x}",
                             data_center=network.data_center)
