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
from vms.services.maintenance import maintenance_continue, maintenance_migration_ended, maintenance_resume_all

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


# ---- maintenance mode -------------------------------------------------------------

def enter(client, host: Host):
    return client.post(f"/api/v1/hosts/{host.pk}/maintenance/")


def test_entering_maintenance_starts_the_planned_migrations_and_names_the_blockers(api, world):
    source = world["hosts"][0]
    answer = enter(api, source)
    assert answer.status_code == 202, answer.content
    source.refresh_from_db()
    assert source.status == HostStatus.PREPARING_FOR_MAINTENANCE
    assert sorted(job["title"] for job in answer.json()["jobs"]) == ["Migrate VM db1 to host3",
                                                                     "Migrate VM web1 to host2"]
    assert "hpc1: high_performance VMs are not live-migrated" in source.status_reason
    assert Vm.objects.get(name="db1").status == VmStatus.MIGRATING


def test_a_host_preparing_for_maintenance_takes_no_new_vm(api, world):
    source = world["hosts"][0]
    enter(api, source)
    down = Vm.objects.create(name="later", cluster=world["cluster"], data_center=world["data_center"],
                             os_type=world["os"], memory_mb=512, cpu_sockets=1, pinned_host=source,
                             status=VmStatus.DOWN)
    answer = api.post(f"/api/v1/vms/{down.pk}/start/")
    assert answer.status_code == 409 and "host1 rejected by status" in answer.json()["detail"]
    down.refresh_from_db()
    (reason,) = [r["reason"] for r in down.placement["reasons"] if r["host"] == source.pk]
    assert reason == "host is preparing for maintenance; only up hosts take new VMs"


def test_the_spm_role_moves_off_the_host(api, world):
    source = world["hosts"][0]
    data_center = world["data_center"]
    data_center.spm_host = source
    data_center.save()
    enter(api, source)
    data_center.refresh_from_db()
    assert data_center.spm_host_id not in (None, source.pk)


def test_an_empty_host_goes_straight_to_maintenance_and_a_busy_one_once_its_vms_have_left(api, world):
    empty, busy = world["hosts"][2], world["hosts"][0]
    assert enter(api, empty).json()["jobs"] == []
    empty.refresh_from_db()
    assert empty.status == HostStatus.MAINTENANCE

    enter(api, world["hosts"][1])  # host2 runs "busy": it must go to host1 (host3 is in maintenance)
    host2 = Host.objects.get(pk=world["hosts"][1].pk)
    assert host2.status == HostStatus.PREPARING_FOR_MAINTENANCE
    Vm.objects.filter(host=host2).update(host=busy, status=VmStatus.UP)  # as a finished migration leaves it
    maintenance_continue(host=host2)
    host2.refresh_from_db()
    assert host2.status == HostStatus.MAINTENANCE


def test_a_failed_migration_keeps_the_host_preparing_and_says_so(api, world):
    source = world["hosts"][0]
    enter(api, source)
    maintenance_migration_ended(source_id=source.pk, vm=Vm.objects.get(name="db1"), failure="host3 did not answer")
    source.refresh_from_db()
    assert source.status == HostStatus.PREPARING_FOR_MAINTENANCE
    assert "db1: its migration failed (host3 did not answer)" in source.status_reason


def test_cancel_brings_it_back_up_and_only_from_preparing(api, world):
    source = world["hosts"][0]
    assert api.post(f"/api/v1/hosts/{source.pk}/maintenance/cancel/").status_code == 409
    enter(api, source)
    assert api.post(f"/api/v1/hosts/{source.pk}/maintenance/cancel/").status_code == 200
    source.refresh_from_db()
    assert source.status == HostStatus.UP
    assert enter(api, Host.objects.get(pk=world["hosts"][1].pk)).status_code == 202
    assert enter(api, Host.objects.get(pk=world["hosts"][1].pk)).status_code == 409  # not up any more


def test_only_the_hosts_admins_may_enter_maintenance(world, bob):
    source = world["hosts"][0]
    Permission.objects.create(role=Role.objects.create(name="Viewer", actions=["view"]), user=bob,
                              object_type=ContentType.objects.get_for_model(source), object_id=str(source.pk))
    as_bob = APIClient()
    as_bob.force_authenticate(bob)
    assert enter(as_bob, source).status_code == 403
    source.refresh_from_db()
    assert source.status == HostStatus.UP


def test_the_plan_page_enters_and_cancels_maintenance(client, admin, world):
    source = world["hosts"][0]
    client.force_login(admin)
    page = reverse("vms-hosts:maintenance-plan", args=[source.pk])
    assert "Enter maintenance" in client.get(page).content.decode()
    assert client.post(reverse("vms-hosts:maintenance", args=[source.pk])).status_code == 302
    shown = client.get(page).content.decode()
    assert "The host is preparing for maintenance." in shown and "Cancel maintenance" in shown
    client.post(reverse("vms-hosts:maintenance-cancel", args=[source.pk]))
    source.refresh_from_db()
    assert source.status == HostStatus.UP


def test_the_periodic_step_resumes_every_preparing_host(api, world):
    source = world["hosts"][0]
    enter(api, source)
    Vm.objects.filter(host=source).update(host=world["hosts"][1], status=VmStatus.UP)
    maintenance_resume_all()
    source.refresh_from_db()
    assert source.status == HostStatus.MAINTENANCE
