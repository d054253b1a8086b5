"""The dashboard's figures: capacity committed per cluster, VMs by status and
storage used per domain, drawn as bars, and only what the user may see."""

import re

import pytest
from django.urls import reverse

from portal.dashboard import dashboard_summary
from tests.vms.factories import GIB, vm_world
from vms.choices import VmStatus
from vms.models import Vm

pytestmark = pytest.mark.django_db


@pytest.fixture
def busy_world():
    """Two up hosts of 8 GiB and 4 cores each; one VM up, one paused (both commit), one down."""
    world = vm_world()
    world["domain"].allocated_bytes = 50 * GIB  # of 200
    world["domain"].save()
    for name, status, memory in (("db1", VmStatus.UP, 4096), ("web1", VmStatus.PAUSED, 1024),
                                 ("old", VmStatus.DOWN, 2048)):
        Vm.objects.create(name=name, cluster=world["cluster"], data_center=world["data_center"],
                          os_type=world["os"], memory_mb=memory, cpu_sockets=2, host=world["hosts"][0],
                          status=status)
    return world


def bar(page: str, section: str) -> list[str]:
    """The aria-valuenow of every progress bar in one card of the page."""
    card = page.split(f'id="{section}"', 1)[1].split('class="pf-v6-c-card__footer"', 1)[0]
    return re.findall(r'aria-valuenow="(\d+)"', card)


def test_it_draws_memory_and_vcpus_committed_against_each_clusters_capacity(busy_world, admin):
    [row] = dashboard_summary(admin)["cluster_utilization"]
    assert row["cluster"] == busy_world["cluster"]
    assert row["bars"] == [("Memory committed: 5120 of 16384 MiB", 31), ("vCPUs committed: 4 of 8", 50)]


def test_it_counts_vms_by_status_as_shares_of_all(busy_world, admin):
    summary = dashboard_summary(admin)
    assert [(s["status"], s["count"], s["percent"]) for s in summary["vm_states"]] == [
        ("down", 1, 33), ("up", 1, 33), ("paused", 1, 33)]
    assert ("Virtual machines", 3, "vms:vm-list") in summary["counts"]


def test_the_page_draws_the_figures_as_bars(client, busy_world, admin):
    client.force_login(admin)
    page = client.get(reverse("dashboard")).content.decode()
    assert bar(page, "dashboard-clusters") == ["31", "50"]
    assert "Memory committed: 5120 of 16384 MiB" in page
    assert bar(page, "dashboard-vms") == ["33", "33", "33"]
    assert "Up: 1 of 3 virtual machines" in page
    assert bar(page, "dashboard-storage") == ["25"]
    assert "50.0 GiB used of 200.0 GiB" in page


def test_a_user_without_grants_sees_no_figures(client, busy_world, charlie):
    summary = dashboard_summary(charlie)
    assert summary["cluster_utilization"] == [] and summary["vm_states"] == []
    assert summary["storage_domains"] == []
    client.force_login(charlie)
    page = client.get(reverse("dashboard")).content.decode()
    assert "No clusters yet" in page and "No virtual machines yet" in page and "db1" not in page
