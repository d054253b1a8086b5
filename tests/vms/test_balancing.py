"""The balancer (vms.balancing, pure) and its periodic step and dry-run page
(vms.services.balancing): one decision at a time, each with its reason."""

import pytest
from django.urls import reverse

from core.models import Event, Job
from inventory.choices import HostStatus, SchedulingPolicy
from tests.vms.factories import vm_world
from tests.vms.test_evacuation import evacuee
from tests.vms.test_maintenance import running
from tests.vms.test_scheduler import host, rules
from vms.balancing import DecisionKind, PowerState, balance
from vms.services.balancing import cluster_balance, cluster_balance_plan

POWER_SAVING = rules(policy=SchedulingPolicy.POWER_SAVING)
EVENLY = rules(policy=SchedulingPolicy.EVENLY_DISTRIBUTED)
BY_COUNT = rules(policy=SchedulingPolicy.VM_EVENLY_DISTRIBUTED)


def placed(vm, host_id):
    return type(vm)(id=vm.id, name=vm.name, demand=vm.demand, migratable=vm.migratable, host_id=host_id)


def test_power_saving_empties_the_least_used_host_onto_the_busiest_that_stays_under_high():
    # 16 GiB hosts: h1 at 50 %, h2 at 12 % (under LowUtilization 20 %), h3 at 25 %.
    hosts = [host(1, committed_memory_mb=8192, vm_count=4), host(2, committed_memory_mb=2048, vm_count=1),
             host(3, committed_memory_mb=4096, vm_count=2)]
    vms = {2: [placed(evacuee(20, 2048), 2)]}
    decision = balance(hosts, vms, POWER_SAVING)
    assert (decision.kind, decision.vm_name, decision.host_id, decision.to_host_id) == (DecisionKind.MIGRATE, "vm20", 2, 1)
    assert "under LowUtilization 20 %" in decision.reason


def test_power_saving_powers_off_an_empty_under_used_host_with_power_management_but_never_the_spm():
    hosts = [host(1, committed_memory_mb=8192, vm_count=4), host(2), host(3, committed_memory_mb=4096, vm_count=2)]
    managed = {2: PowerState(power_managed=True)}
    decision = balance(hosts, {}, POWER_SAVING, managed)
    assert (decision.kind, decision.host_id) == (DecisionKind.POWER_OFF, 2)
    hosts[1] = host(2, is_spm=True)
    assert balance(hosts, {}, POWER_SAVING, managed) is None
    assert balance([host(1), host(2)], {}, POWER_SAVING) is None  # no BMC: left alone


def test_power_saving_powers_a_host_on_when_every_up_host_is_above_high():
    hosts = [host(1, committed_memory_mb=15000), host(2, committed_memory_mb=14500),
             host(3, status=HostStatus.DOWN)]
    decision = balance(hosts, {}, POWER_SAVING, {3: PowerState(power_managed=True)})
    assert (decision.kind, decision.host_id) == (DecisionKind.POWER_ON, 3)
    assert "above HighUtilization 80 %" in decision.reason


def test_evenly_distributed_moves_the_smallest_vm_off_a_host_above_high():
    hosts = [host(1, committed_memory_mb=15000, vm_count=3), host(2, committed_memory_mb=2000, vm_count=1)]
    vms = {1: [placed(evacuee(10, 8000), 1), placed(evacuee(11, 1000), 1), placed(evacuee(12, 6000), 1)]}
    decision = balance(hosts, vms, EVENLY)
    assert (decision.vm_name, decision.to_host_id) == ("vm11", 2)
    assert "above HighUtilization 80 %" in decision.reason
    assert balance([host(1, committed_memory_mb=4000), host(2)], {}, EVENLY) is None  # nothing above


def test_a_vm_that_cannot_migrate_is_left_where_it_is():
    hosts = [host(1, committed_memory_mb=15000, vm_count=1), host(2)]
    assert balance(hosts, {1: [placed(evacuee(10, 1000, migratable=False), 1)]}, EVENLY) is None


def test_vm_evenly_distributed_moves_one_vm_from_the_most_crowded_host():
    hosts = [host(1, vm_count=12), host(2, vm_count=2)]
    vms = {1: [placed(evacuee(n, 512), 1) for n in range(12)]}
    decision = balance(hosts, vms, BY_COUNT)
    assert (decision.host_id, decision.to_host_id) == (1, 2)
    assert "above HighVmCount 10" in decision.reason
    assert balance([host(1, vm_count=9), host(2)], vms, BY_COUNT) is None  # under HighVmCount


@pytest.mark.django_db
def test_the_periodic_step_starts_the_migration_and_records_why(admin):
    world = vm_world(hosts=3)
    cluster = world["cluster"]
    cluster.scheduling_policy = SchedulingPolicy.POWER_SAVING
    cluster.save()
    busy, quiet, _ = world["hosts"]
    running(world, "big", busy, 4096)
    running(world, "small", quiet, 512)

    assert cluster_balance_plan(cluster).vm_name in {"small", "big"}
    decision = cluster_balance(cluster)

    assert decision.kind == DecisionKind.MIGRATE
    assert Job.objects.get(kind="vm.migrate").target_name == decision.vm_name
    assert Event.objects.filter(code="cluster.balance_migrate", message__contains=decision.reason[:30]).exists()
    assert cluster_balance(cluster) is None  # one step at a time: a migration is under way


@pytest.mark.django_db
def test_the_dry_run_page_shows_the_decision_to_the_clusters_admins(client, admin):
    world = vm_world(hosts=2)
    cluster = world["cluster"]
    cluster.scheduling_policy = SchedulingPolicy.VM_EVENLY_DISTRIBUTED
    cluster.save()
    client.force_login(admin)
    url = reverse("vms-clusters:balance", args=[cluster.pk])
    assert url in client.get(reverse("inventory:cluster-detail", args=[cluster.pk])).content.decode()
    assert "Nothing to change" in client.get(url).content.decode()
    for n in range(12):
        running(world, f"vm{n}", world["hosts"][0], 128)
    page = client.get(url).content.decode()
    assert 'data-balance-decision="migrate"' in page and "above HighVmCount 10" in page
    assert not Job.objects.exists()
