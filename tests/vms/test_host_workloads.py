"""What runs on a host, as inventory shows it through the vms app's hooks:
the host's API fields and the Running VMs card of its page."""

import pytest
from django.urls import reverse

from tests.vms.factories import vm_world
from vms.choices import VmStatus
from vms.models import Vm

pytestmark = pytest.mark.django_db


@pytest.fixture
def busy_host(db):
    world = vm_world()
    host = world["hosts"][0]
    for name, status, memory in (("db1", VmStatus.UP, 4096), ("web1", VmStatus.PAUSED, 1024),
                                 ("old", VmStatus.DOWN, 2048)):
        Vm.objects.create(name=name, cluster=world["cluster"], data_center=world["data_center"],
                          os_type=world["os"], memory_mb=memory, cpu_sockets=2, host=host, status=status)
    return host


def test_the_host_api_counts_running_vms_and_their_memory(api, busy_host):
    listed = {row["name"]: row for row in api.get("/api/v1/hosts/").json()["results"]}
    assert (listed["host1"]["vm_count"], listed["host1"]["memory_committed_mb"]) == (2, 5120)
    assert (listed["host2"]["vm_count"], listed["host2"]["memory_committed_mb"]) == (0, 0)


def test_the_host_list_costs_the_same_queries_whatever_runs_on_it(api, busy_host, django_assert_max_num_queries):
    with django_assert_max_num_queries(5):
        api.get("/api/v1/hosts/")


def test_the_host_page_lists_its_running_vms_against_its_memory(client, admin, busy_host):
    client.force_login(admin)
    page = client.get(reverse("inventory:host-detail", args=[busy_host.pk])).content.decode()
    assert "Memory committed: 5120 of 8192 MiB physical" in page
    assert "2 VMs running, 4 vCPUs committed on 8 logical CPUs" in page
    assert ">db1</a>" in page and ">web1</a>" in page and ">old</a>" not in page
