"""The VM list's FilterSet (vms/filters.py): the VM list page and
``GET /api/v1/vms/`` answer the same filters, search and ordering with the
same VMs, for an administrator and for an owner who sees only hers, and
refuse a bad value each in its own way."""

import pytest
from rest_framework.test import APIClient

from tests.inventory.factories import ClusterFactory
from tests.support.lists import ListFaces, listed_by_both, refused_by_both
from tests.vms.factories import OperatingSystemFactory, vm_world
from vms.choices import VmOrigin, VmStatus
from vms.models import Vm

pytestmark = pytest.mark.django_db

VMS = ListFaces("vms:vm-list", "vms", "/api/v1/vms/", Vm)

# (who looks, query ({name} is that object's id), the VMs both faces list, in order)
CASES = [
    ("admin", "", ["db-1", "ext-1", "web-1", "web-2"]),
    ("admin", "q=WEB", ["web-1", "web-2"]),
    ("admin", "q=database", []),  # names only: the description is not searched
    ("admin", "cluster={cl2}", ["db-1"]),
    ("admin", "host={host1}", ["ext-1", "web-1"]),
    ("admin", "status=up&owner={alice}", ["web-1"]),
    ("admin", "os_type=win2k22", ["db-1"]),
    ("admin", "origin=external", ["ext-1"]),
    ("admin", "optimization=high_performance", ["db-1"]),
    ("admin", "ordering=-memory_mb", ["db-1", "web-2", "web-1", "ext-1"]),
    ("admin", "ordering=-vcpus", ["db-1", "web-1", "web-2", "ext-1"]),  # ties: in the order they were made
    ("admin", "ordering=-cluster,name", ["db-1", "ext-1", "web-1", "web-2"]),
    ("admin", "ordering=os_type&q=-1", ["web-1", "ext-1", "db-1"]),
    ("admin", "ordering=-status&cluster={cl1}", ["web-1", "web-2", "ext-1"]),
    ("alice", "", ["db-1", "web-1"]),
    ("alice", "status=up", ["web-1"]),
    ("alice", "ordering=-memory_mb&q=-", ["db-1", "web-1"]),
]

INVALID = [("status=sideways", "status"), ("host=abc", "host"), ("cluster=0", "cluster"), ("ordering=uuid", "ordering")]


@pytest.fixture
def fleet(alice, bob):
    world = vm_world()
    data_center, cl1 = world["data_center"], world["cluster"]
    host1, host2 = world["hosts"]
    cl2 = ClusterFactory(name="cl2", data_center=data_center)
    debian = world["os"]
    windows = OperatingSystemFactory(short_id="win2k22", name="Windows Server 2022", family="windows")

    def vm(name, cluster, **fields):
        fields.setdefault("os_type", debian)
        return Vm.objects.create(name=name, cluster=cluster, data_center=data_center, **fields)

    vm("web-1", cl1, host=host1, status=VmStatus.UP, owner=alice, memory_mb=2048, cpu_sockets=2)
    vm("web-2", cl1, host=host2, status=VmStatus.UP, owner=bob, memory_mb=4096)
    vm("db-1", cl2, status=VmStatus.DOWN, owner=alice, memory_mb=8192, cpu_cores=4, os_type=windows,
       description="the database", optimization="high_performance")
    vm("ext-1", cl1, host=host1, status=VmStatus.PAUSED, memory_mb=1024, origin=VmOrigin.EXTERNAL)
    return {"cl1": cl1.pk, "cl2": cl2.pk, "host1": host1.pk, "alice": alice.pk}


@pytest.fixture
def clients(client, request):
    """The page's client and the API's, both as the named user of the cast."""
    user = request.getfixturevalue(request.param)
    client.force_login(user)
    api = APIClient()
    api.force_authenticate(user)
    return client, api


@pytest.mark.parametrize(("clients", "query", "expected"), CASES, indirect=["clients"],
                         ids=[f"{who}?{query}" for who, query, _ in CASES])
def test_the_page_and_the_api_list_the_same_vms(clients, fleet, query, expected):
    assert listed_by_both(*clients, VMS, query.format(**fleet)) == expected


@pytest.mark.parametrize("clients", ["admin"], indirect=True)
@pytest.mark.parametrize(("query", "param"), INVALID, ids=[query for query, _ in INVALID])
def test_a_bad_value_is_a_400_in_the_api_and_left_out_on_the_page(clients, fleet, query, param):
    assert refused_by_both(*clients, VMS, query) == [param]
