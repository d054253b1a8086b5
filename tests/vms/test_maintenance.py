"""A host's maintenance plan through the API and its page: the real
scheduler over the database's hosts and VMs, and no side effect."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from rest_framework.test import APIClient

from core.models import Event, Permission, Role
from inventory.choices import HostStatus
from inventory.models import Host
from tests.vms.factories import vm_world
from vms.choices import Optimization, VmStatus
from vms.models import Vm

pytestmark = pytest.mark.django_db


def running(world, name: str, host: Host, memory_mb: int, **fields) -> Vm:
    return Vm.objects.create(name=name, cluster=world["cluster"], data_center=world["data_center"],
                             os_type=world["os"], memory_mb=memory_mb, cpu_sockets=1, host=host,
                             status=VmStatus.UP, **fields)


@pytest.fixture
def world():
    world = vm_world(hosts=3)  # three up hosts of 8 GiB
    source, second, third = world["hosts"]
    running(world, "db1", source, 4096)
    running(world, "web1", source, 1024)
    running(world, "hpc1", source, 1024, optimization=Optimization.HIGH_PERFORMANCE)
    running(world, "busy", second, 6144)
    return world


def plan_of(client, host: Host):
    return client.get(f"/api/v1/hosts/{host.pk}/maintenance-plan/")


def test_the_plan_says_where_each_vm_goes_and_what_blocks(api, world):
    source, second, third = world["hosts"]
    answer = plan_of(api, source)
    assert answer.status_code == 200
    plan = answer.json()
    # db1 (4 GiB) fits only on host3 (host2 holds 6 GiB of 8); web1 then fits on host2.
    assert [(move["vm_name"], move["to_host_name"]) for move in plan["moves"]] == [("db1", "host3"), ("web1", "host2")]
    assert plan["memory_mb_moved"] == 5120
    (blocker,) = plan["blockers"]
    assert (blocker["vm_name"], blocker["kind"], plan["feasible"]) == ("hpc1", "not_migratable", False)
    assert blocker["restart_host"] in {second.pk, third.pk}
    assert plan["estimated_seconds"] > 0


def test_reading_the_plan_changes_nothing(api, world):
    source = world["hosts"][0]
    before = list(Vm.objects.order_by("pk").values_list("host_id", "status"))
    plan_of(api, source)
    source.refresh_from_db()
    assert source.status == HostStatus.UP
    assert list(Vm.objects.order_by("pk").values_list("host_id", "status")) == before
    assert not Event.objects.exists()


def test_a_full_cluster_blocks_with_the_figures(api, world):
    source, second, third = world["hosts"]
    running(world, "big", third, 7168)
    plan = plan_of(api, source).json()
    blocked = {blocker["vm_name"]: blocker for blocker in plan["blockers"]}
    assert blocked["db1"]["kind"] == "no_room" and "needs 4096 MiB" in blocked["db1"]["reason"]


def test_only_the_hosts_admins_may_read_it(world, bob, charlie):
    source = world["hosts"][0]
    Permission.objects.create(role=Role.objects.create(name="Viewer", actions=["view"]), user=bob,
                              object_type=ContentType.objects.get_for_model(source), object_id=str(source.pk))
    as_bob, as_charlie = APIClient(), APIClient()
    as_bob.force_authenticate(bob)
    as_charlie.force_authenticate(charlie)
    assert plan_of(as_bob, source).status_code == 403
    assert plan_of(as_charlie, source).status_code == 404  # cannot even see the host
    assert APIClient().get(f"/api/v1/hosts/{source.pk}/maintenance-plan/").status_code in (401, 403)


def test_an_unknown_host_is_404(api, world):
    assert plan_of(api, Host(pk=99999)).status_code == 404


def test_the_host_page_offers_the_plan_and_the_plan_page_shows_it(client, admin, world):
    source = world["hosts"][0]
    client.force_login(admin)
    url = reverse("vms-hosts:maintenance-plan", args=[source.pk])
    assert url in client.get(reverse("inventory:host-detail", args=[source.pk])).content.decode()
    page = client.get(url).content.decode()
    assert "Some VMs cannot leave this host" in page
    assert ">db1</a>" in page and ">host3</a>" in page and "high_performance VMs are not live-migrated" in page


def test_the_plan_page_is_refused_to_a_user_who_may_only_look(client, world, bob):
    source = world["hosts"][0]
    Permission.objects.create(role=Role.objects.create(name="Viewer", actions=["view"]), user=bob,
                              object_type=ContentType.objects.get_for_model(source), object_id=str(source.pk))
    client.force_login(bob)
    assert client.get(reverse("vms-hosts:maintenance-plan", args=[source.pk])).status_code == 403
    assert reverse("vms-hosts:maintenance-plan", args=[source.pk]) not in client.get(
        reverse("inventory:host-detail", args=[source.pk])).content.decode()


def test_the_plan_costs_the_same_queries_for_more_vms(api, world, django_assert_max_num_queries):
    source = world["hosts"][0]
    for n in range(20):
        running(world, f"extra{n}", source, 64)
    with django_assert_max_num_queries(15):
        assert plan_of(api, source).status_code == 200
