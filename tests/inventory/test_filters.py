"""The inventory lists' FilterSets (inventory/filters.py): each list's page and
its API answer the same filters, search and ordering with the same objects,
and refuse a bad value each in its own way (the API with 400, the page by
leaving the filter out and saying so)."""

import pytest
from django.urls import reverse

from inventory.choices import HostStatus, NetworkStatus
from inventory.models import Cluster, DataCenter, Host, Image, Network, StorageDomain
from tests.inventory.factories import ClusterFactory, DataCenterFactory, HostFactory, StorageDomainFactory
from tests.support.lists import ListFaces, listed_by_both, refused_by_both

pytestmark = pytest.mark.django_db

LISTS = {
    "datacenters": ListFaces("inventory:datacenter-list", "data_centers", "/api/v1/datacenters/", DataCenter),
    "clusters": ListFaces("inventory:cluster-list", "clusters", "/api/v1/clusters/", Cluster),
    "hosts": ListFaces("inventory:host-list", "hosts", "/api/v1/hosts/", Host),
    "storagedomains": ListFaces("inventory:storagedomain-list", "storage_domains", "/api/v1/storagedomains/",
                                StorageDomain),
    "networks": ListFaces("inventory:network-list", "networks", "/api/v1/networks/", Network),
    "images": ListFaces("inventory:image-list", "images", "/api/v1/images/", Image),
}

# (list, query ({name} is that object's id), the names both faces list, in order)
CASES = [
    ("datacenters", "", ["east", "west"]),
    ("datacenters", "q=LAB", ["east"]),  # the description
    ("datacenters", "classification=service", ["west"]),
    ("datacenters", "storage_type=local", ["west"]),
    ("datacenters", "ordering=-name", ["west", "east"]),
    ("datacenters", "ordering=-host_count", ["west", "east"]),
    ("datacenters", "ordering=-cluster_count,-name&q=e", ["west", "east"]),
    ("clusters", "", ["c-lab", "c-prod"]),
    ("clusters", "q=skylake", ["c-lab"]),  # the CPU model
    ("clusters", "data_center={west}", ["c-prod"]),
    ("clusters", "scheduling_policy=power_saving", []),
    ("clusters", "ordering=-host_count", ["c-prod", "c-lab"]),
    ("clusters", "ordering=-data_center", ["c-prod", "c-lab"]),
    ("clusters", "ordering=-memory_overcommit_percent", ["c-lab", "c-prod"]),
    ("hosts", "", ["h-alpha", "h-beta", "h-gamma"]),
    ("hosts", "q=ALPHA.lab", ["h-alpha"]),  # the URI
    ("hosts", "q=example.org", ["h-beta"]),  # the host name
    ("hosts", "status=maintenance", ["h-beta"]),
    ("hosts", "cluster={c_prod}", ["h-beta", "h-gamma"]),
    ("hosts", "kvm=true", ["h-alpha"]),
    ("hosts", "cluster={c_prod}&ordering=-memory_mb", ["h-gamma", "h-beta"]),
    ("hosts", "ordering=-cluster", ["h-beta", "h-gamma", "h-alpha"]),
    ("hosts", "ordering=cpu_total", ["h-gamma", "h-alpha", "h-beta"]),
    ("storagedomains", "", ["sd-data", "sd-iso"]),
    ("storagedomains", "q=nfs1", ["sd-data"]),  # the NFS server
    ("storagedomains", "domain_type=iso", ["sd-iso"]),
    ("storagedomains", "data_center={east}&status=unattached", ["sd-data"]),
    ("storagedomains", "ordering=-domain_type", ["sd-iso", "sd-data"]),
    ("networks", "", ["net-a", "net-b"]),
    ("networks", "q=brlab", ["net-a"]),  # the bridge
    ("networks", "vm_network=false", ["net-b"]),
    ("networks", "status=active", ["net-b"]),
    ("networks", "ordering=vlan", ["net-b", "net-a"]),
    ("images", "", ["debian.iso", "fedora.qcow2"]),
    ("images", "q=qcow", ["fedora.qcow2"]),  # the format, not only the name
    ("images", "q=sd-data", ["debian.iso", "fedora.qcow2"]),  # the storage domain's name
    ("images", "content=iso", ["debian.iso"]),
    ("images", "storage_domain={sd_data}&format=qcow2", ["fedora.qcow2"]),
    ("images", "ordering=-virtual_size_bytes", ["fedora.qcow2", "debian.iso"]),
]

# (list, query, the parameter the API names in its 400)
INVALID = [
    ("datacenters", "classification=nonsense", "classification"),
    ("clusters", "data_center=abc", "data_center"),
    ("hosts", "cluster=99999999999999999999", "cluster"),
    ("hosts", "ordering=password", "ordering"),
    ("storagedomains", "status=sideways", "status"),
    ("networks", "data_center=1.5", "data_center"),
    ("images", "storage_domain=-1", "storage_domain"),
]


@pytest.fixture
def inventory():
    east = DataCenterFactory(name="east", description="the lab site", classification="customer")
    west = DataCenterFactory(name="west", classification="service", storage_type="local")
    c_lab = ClusterFactory(name="c-lab", data_center=east, cpu_model="Skylake-Server", memory_overcommit_percent=150)
    c_prod = ClusterFactory(name="c-prod", data_center=west, memory_overcommit_percent=100)
    HostFactory(name="h-alpha", cluster=c_lab, uri="qemu+tcp://alpha.lab/system", status=HostStatus.UP,
                memory_mb=4096, cpu_total=8, kvm=True)
    HostFactory(name="h-beta", cluster=c_prod, hostname="beta.example.org", status=HostStatus.MAINTENANCE,
                memory_mb=2048, cpu_total=16)
    HostFactory(name="h-gamma", cluster=c_prod, status=HostStatus.UP, memory_mb=8192, cpu_total=4)
    sd_data = StorageDomainFactory(name="sd-data", data_center=east, storage_type="nfs", nfs_server="nfs1.lab",
                                   nfs_export="/export/data")
    StorageDomainFactory(name="sd-iso", data_center=west, domain_type="iso")
    Network.objects.create(name="net-a", data_center=east, vlan=20, bridge="brlab")
    Network.objects.create(name="net-b", data_center=west, vlan=10, vm_network=False, status=NetworkStatus.ACTIVE)
    Image.objects.create(name="fedora.qcow2", storage_domain=sd_data, format="qcow2", virtual_size_bytes=10 * 2**30)
    Image.objects.create(name="debian.iso", storage_domain=sd_data, content="iso", format="raw",
                         virtual_size_bytes=2**30)
    return {"east": east.pk, "west": west.pk, "c_lab": c_lab.pk, "c_prod": c_prod.pk, "sd_data": sd_data.pk}


@pytest.mark.parametrize(("kind", "query", "expected"), CASES, ids=[f"{k}?{q}" for k, q, _ in CASES])
def test_the_page_and_the_api_list_the_same_objects(logged_in, api, inventory, kind, query, expected):
    assert listed_by_both(logged_in, api, LISTS[kind], query.format(**inventory)) == expected


@pytest.mark.parametrize(("kind", "query", "param"), INVALID, ids=[f"{k}?{q}" for k, q, _ in INVALID])
def test_a_bad_value_is_a_400_in_the_api_and_left_out_on_the_page(logged_in, api, inventory, kind, query, param):
    assert refused_by_both(logged_in, api, LISTS[kind], query) == [param]


def test_the_page_says_which_filter_it_left_out(logged_in, inventory):
    page = logged_in.get(reverse("inventory:host-list") + "?status=sideways&q=h-").content.decode()
    assert "The list is shown without the filter status: Select a valid choice." in page
    assert ">h-alpha<" in page and ">h-beta<" in page
