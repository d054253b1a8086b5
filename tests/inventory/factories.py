import factory

from inventory.models import Cluster, DataCenter, Host, StorageDomain
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
