"""The evacuation plan (vms.evacuation): where a host's VMs would go, what
blocks them and how long it takes. Pure: no database, no hypervisor."""

import pytest

from inventory.choices import HostStatus
from tests.vms.test_scheduler import host, rules, vm
from vms.evacuation import (
    DEFAULT_MIGRATION_BANDWIDTH_MIB_S, MIGRATION_OVERHEAD_SECONDS, BlockerKind, Evacuee, bandwidth_mib_s,
    plan_evacuation,
)


def evacuee(id: int, memory_mb: int = 2048, *, migratable: bool = True, **demand) -> Evacuee:
    return Evacuee(id=id, name=f"vm{id}", demand=vm(memory_mb=memory_mb, memory_guaranteed_mb=0, **demand),
                   migratable=migratable)


def test_it_moves_every_vm_to_another_host_and_never_onto_the_source():
    hosts = [host(1, committed_memory_mb=4096), host(2), host(3)]
    plan = plan_evacuation(1, [evacuee(10), evacuee(11)], hosts, rules())
    assert plan.feasible and not plan.blockers
    assert {move.vm_name for move in plan.moves} == {"vm10", "vm11"}
    assert {move.to_host_id for move in plan.moves} <= {2, 3}
    assert plan.memory_mb_moved == 4096


def test_it_counts_each_planned_move_against_the_next_one():
    # h2 has room for one 6 GiB VM only: the second one must go to h3.
    hosts = [host(1), host(2, memory_mb=8192), host(3, memory_mb=8192)]
    plan = plan_evacuation(1, [evacuee(10, 6144), evacuee(11, 6144)], hosts, rules())
    assert plan.feasible
    assert sorted(move.to_host_id for move in plan.moves) == [2, 3]


def test_it_places_the_largest_vm_first():
    # Smallest first would put the 1 GiB VM on h2 and leave no host for 7 GiB.
    hosts = [host(1), host(2, memory_mb=7168), host(3, memory_mb=2048)]
    plan = plan_evacuation(1, [evacuee(10, 1024), evacuee(11, 7168)], hosts, rules())
    assert plan.feasible
    assert [(move.vm_name, move.to_host_id) for move in plan.moves] == [("vm11", 2), ("vm10", 3)]


def test_a_vm_with_no_room_elsewhere_blocks_with_the_schedulers_reason():
    hosts = [host(1), host(2, memory_mb=4096)]
    plan = plan_evacuation(1, [evacuee(10, 8192)], hosts, rules(reserved_headroom_percent=20))
    assert not plan.feasible and not plan.moves
    (blocker,) = plan.blockers
    assert (blocker.vm_name, blocker.kind) == ("vm10", BlockerKind.NO_ROOM)
    assert "needs 8192 MiB" in blocker.reason and "20 % headroom" in blocker.reason


def test_hosts_that_are_not_up_take_nothing():
    hosts = [host(1), host(2, status=HostStatus.MAINTENANCE), host(3, status=HostStatus.PREPARING_FOR_MAINTENANCE)]
    (blocker,) = plan_evacuation(1, [evacuee(10)], hosts, rules()).blockers
    assert blocker.kind == BlockerKind.NO_ROOM and "maintenance" in blocker.reason


def test_a_vm_pinned_to_the_host_blocks_and_says_so():
    plan = plan_evacuation(1, [evacuee(10, pinned_host_id=1)], [host(1, name="alpha"), host(2)], rules())
    (blocker,) = plan.blockers
    assert blocker.kind == BlockerKind.PINNED and blocker.reason.startswith("pinned to alpha")


def test_a_high_performance_vm_blocks_but_tells_where_it_could_start_again():
    plan = plan_evacuation(1, [evacuee(10, migratable=False)], [host(1), host(2, name="beta")], rules())
    (blocker,) = plan.blockers
    assert blocker.kind == BlockerKind.NOT_MIGRATABLE
    assert (blocker.restart_host_id, blocker.restart_host_name) == (2, "beta")
    assert "could start again on beta" in blocker.reason


def test_the_estimate_runs_two_migrations_at_a_time_at_the_bandwidth():
    hosts = [host(1), host(2, memory_mb=65536)]
    plan = plan_evacuation(1, [evacuee(10, 5200), evacuee(11, 2600), evacuee(12, 2600)], hosts, rules(),
                           bandwidth_mib_s=52)
    # Lane 1: 5200 MiB (100 s); lane 2: 2600 + 2600 MiB (50 s + 50 s); each move adds the overhead.
    assert plan.estimated_seconds == pytest.approx(100 + 2 * MIGRATION_OVERHEAD_SECONDS)


def test_an_empty_host_needs_nothing():
    plan = plan_evacuation(1, [], [host(1), host(2)], rules())
    assert plan.feasible and (plan.moves, plan.memory_mb_moved, plan.estimated_seconds) == ((), 0, 0)


def test_the_clusters_bandwidth_is_megabits_and_automatic_is_the_default():
    assert bandwidth_mib_s(None) == DEFAULT_MIGRATION_BANDWIDTH_MIB_S
    assert bandwidth_mib_s(1000) == pytest.approx(119.2, abs=0.1)
