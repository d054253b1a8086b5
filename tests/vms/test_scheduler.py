"""The scheduler (vms.scheduler): filters with their figures, the policies'
choices, and what a placement records. Pure: no database, no hypervisor."""

import json
import random
from dataclasses import replace

import pytest

from inventory.choices import HostStatus, SchedulingPolicy
from vms.scheduler import ClusterRules, HostCandidate, HostVerdict, Placement, VmDemand, place

# Two cells of 8 logical CPUs (4 cores each) and 8 GiB each.
TWO_CELLS = ((tuple(range(8)), 8192), (tuple(range(8, 16)), 8192))


def host(id: int = 1, name: str | None = None, **changes) -> HostCandidate:
    """An up host with 16 GiB, 8 cores / 16 threads, network 1 and storage
    domain 1, running nothing."""
    figures = dict(
        status=HostStatus.UP, memory_mb=16384, cores=8, threads=16, numa_cells=(),
        networks=frozenset({1}), storage_domains=frozenset({1}), committed_memory_mb=0,
        committed_guaranteed_mb=0, committed_vcpus=0, vm_count=0, is_spm=False,
    )
    return HostCandidate(id=id, name=name or f"h{id}", **{**figures, **changes})


def vm(**changes) -> VmDemand:
    return VmDemand(**{**dict(memory_mb=2048, memory_guaranteed_mb=1024, vcpus=2), **changes})


def rules(**changes) -> ClusterRules:
    return ClusterRules(**changes)


def verdict(placement: Placement, host_id: int) -> HostVerdict:
    return next(v for v in placement.verdicts if v.host_id == host_id)


def refusal(demand: VmDemand, candidate: HostCandidate, cluster: ClusterRules | None = None) -> tuple:
    """(filter, reason) of one host, or None when it passes."""
    result = verdict(place(demand, [candidate], cluster or rules()), candidate.id)
    return None if result.passed else (result.filter, result.reason)


# Status ----------------------------------------------------------------------

def test_it_places_a_vm_on_an_up_host():
    placement = place(vm(), [host()], rules())
    assert (placement.host_id, placement.host_name) == (1, "h1")
    assert placement.verdicts[0].passed and placement.verdicts[0].filter is None


def test_it_rejects_a_host_in_maintenance():
    assert refusal(vm(), host(status=HostStatus.MAINTENANCE)) == (
        "status", "host is in maintenance; only up hosts take new VMs")


def test_it_rejects_a_host_preparing_for_maintenance():
    assert refusal(vm(), host(status=HostStatus.PREPARING_FOR_MAINTENANCE)) == (
        "status", "host is preparing for maintenance; only up hosts take new VMs")


@pytest.mark.parametrize("status", [s for s in HostStatus.values() if s != HostStatus.UP])
def test_it_rejects_every_host_that_is_not_up_naming_its_state(status):
    name, reason = refusal(vm(), host(status=status))
    assert name == "status"
    assert reason.startswith("host is ") and HostStatus.label(status).lower().split()[-1] in reason


# Memory ----------------------------------------------------------------------

def test_it_accepts_a_vm_that_fits_in_the_free_memory():
    assert refusal(vm(memory_mb=4096), host(memory_mb=8192, committed_memory_mb=4096)) is None


def test_it_rejects_a_vm_bigger_than_the_free_memory_naming_the_figures():
    assert refusal(vm(memory_mb=4096), host(memory_mb=8192, committed_memory_mb=6000)) == (
        "memory", "needs 4096 MiB, 2192 MiB free of 8192 MiB allowed (100 % overcommit, 0 % headroom)")


@pytest.mark.parametrize("overcommit, fits", [(100, False), (150, True), (200, True)])
def test_it_allows_committing_physical_memory_times_the_overcommit(overcommit, fits):
    # 8 GiB committed on 8 GiB: another 4 GiB needs 150 %.
    candidate = host(memory_mb=8192, committed_memory_mb=8192)
    result = refusal(vm(memory_mb=4096, memory_guaranteed_mb=0), candidate,
                     rules(memory_overcommit_percent=overcommit))
    assert (result is None) is fits


def test_it_refuses_at_100_percent_a_vm_that_fits_only_at_150_percent():
    candidate = host(memory_mb=8192, committed_memory_mb=6144)
    demand = vm(memory_mb=4096, memory_guaranteed_mb=0)
    assert refusal(demand, candidate, rules(memory_overcommit_percent=150)) is None
    assert refusal(demand, candidate, rules(memory_overcommit_percent=100)) == (
        "memory", "needs 4096 MiB, 2048 MiB free of 8192 MiB allowed (100 % overcommit, 0 % headroom)")


def test_it_never_overcommits_guaranteed_memory():
    # 8 GiB committed of 16 GiB allowed at 200 %: the memory fits, but 6 GiB of
    # 8 GiB physical are already guaranteed and the VM guarantees 4 GiB more.
    candidate = host(memory_mb=8192, committed_memory_mb=8192, committed_guaranteed_mb=6144)
    assert refusal(vm(memory_mb=4096, memory_guaranteed_mb=4096), candidate,
                   rules(memory_overcommit_percent=200)) == (
        "memory", "needs 4096 MiB guaranteed, 2048 MiB free of 8192 MiB that may be guaranteed "
                  "(never overcommitted, 0 % headroom)")
    assert refusal(vm(memory_mb=4096, memory_guaranteed_mb=2048), candidate,
                   rules(memory_overcommit_percent=200)) is None


def test_it_keeps_the_reserved_headroom_free():
    candidate = host(memory_mb=10000)
    headroom = rules(reserved_headroom_percent=20)
    assert refusal(vm(memory_mb=8000, memory_guaranteed_mb=0), candidate, headroom) is None
    assert refusal(vm(memory_mb=8001, memory_guaranteed_mb=0), candidate, headroom) == (
        "memory", "needs 8001 MiB, 8000 MiB free of 8000 MiB allowed (100 % overcommit, 20 % headroom)")


def test_it_applies_the_headroom_to_overcommitted_and_guaranteed_memory():
    # 10000 MiB x 150 % x 90 % = 13500 MiB allowed; 9000 MiB may be guaranteed.
    cluster = rules(memory_overcommit_percent=150, reserved_headroom_percent=10)
    candidate = host(memory_mb=10000, committed_memory_mb=12000, committed_guaranteed_mb=8000)
    assert refusal(vm(memory_mb=2000, memory_guaranteed_mb=0), candidate, cluster) == (
        "memory", "needs 2000 MiB, 1500 MiB free of 13500 MiB allowed (150 % overcommit, 10 % headroom)")
    assert refusal(vm(memory_mb=1500, memory_guaranteed_mb=1500), candidate, cluster) == (
        "memory", "needs 1500 MiB guaranteed, 1000 MiB free of 9000 MiB that may be guaranteed "
                  "(never overcommitted, 10 % headroom)")


# CPU -------------------------------------------------------------------------

def test_it_counts_only_cores_unless_threads_count_as_cores():
    assert refusal(vm(vcpus=12), host()) == ("cpu", "needs 12 vCPUs, host has 8 cores (threads not counted as cores)")
    assert refusal(vm(vcpus=8), host()) is None
    assert refusal(vm(vcpus=12), host(), rules(threads_as_cores=True)) is None


def test_it_rejects_more_vcpus_than_threads_when_threads_count():
    assert refusal(vm(vcpus=16), host(), rules(threads_as_cores=True)) is None
    assert refusal(vm(vcpus=17), host(), rules(threads_as_cores=True)) == (
        "cpu", "needs 17 vCPUs, host has 16 threads")


# Network and storage ------------------------------------------------------------

def test_it_rejects_a_host_without_a_required_network():
    assert refusal(vm(networks=frozenset({1, 3, 2})), host(networks=frozenset({1}))) == (
        "network", "needs network(s) not on the host: 2, 3")


def test_it_accepts_a_host_with_every_required_network():
    assert refusal(vm(networks=frozenset({1, 2})), host(networks=frozenset({1, 2, 3}))) is None


def test_it_rejects_a_host_that_cannot_reach_a_storage_domain():
    assert refusal(vm(storage_domains=frozenset({1, 4})), host(storage_domains=frozenset({1}))) == (
        "storage", "needs storage domain(s) the host cannot reach: 4")


def test_it_accepts_a_host_that_reaches_every_storage_domain():
    assert refusal(vm(storage_domains=frozenset({1, 4})), host(storage_domains=frozenset({1, 4}))) is None


# NUMA ------------------------------------------------------------------------

def test_it_fits_a_high_performance_vm_in_one_numa_cell():
    assert refusal(vm(vcpus=4, memory_mb=8192, needs_numa=True), host(numa_cells=TWO_CELLS)) is None


def test_it_splits_a_high_performance_vm_over_numa_cells():
    # 8 vCPUs and 12 GiB: no single cell (4 cores, 8 GiB) holds it, two halves fit.
    assert refusal(vm(vcpus=8, memory_mb=12288, needs_numa=True), host(numa_cells=TWO_CELLS)) is None


def test_it_rejects_a_high_performance_vm_that_no_numa_cells_hold():
    # 12 GiB fits the host's memory, but only one cell has more than 6 GiB.
    lopsided = ((tuple(range(8)), 12288), (tuple(range(8, 16)), 4096))
    assert refusal(vm(vcpus=6, memory_mb=12288, needs_numa=True), host(numa_cells=lopsided)) == (
        "numa", "needs 6 vCPUs and 12288 MiB within NUMA cells; the host's 2 cell(s) hold at most 4 cores "
                "and 12288 MiB each")


def test_it_counts_numa_cell_threads_when_threads_count_as_cores():
    lopsided = ((tuple(range(8)), 12288), (tuple(range(8, 16)), 4096))
    assert refusal(vm(vcpus=6, memory_mb=12288, needs_numa=True), host(numa_cells=lopsided),
                   rules(threads_as_cores=True)) is None


def test_it_counts_a_host_without_numa_cells_as_one_cell():
    assert refusal(vm(vcpus=8, memory_mb=16384, needs_numa=True), host(numa_cells=())) is None


def test_it_rejects_on_a_host_without_numa_cells_a_vm_beyond_its_physical_memory():
    # 200 % overcommit lets the memory filter pass; a pinned vNUMA VM needs real memory.
    assert refusal(vm(vcpus=2, memory_mb=20000, memory_guaranteed_mb=0, needs_numa=True), host(numa_cells=()),
                   rules(memory_overcommit_percent=200)) == (
        "numa", "needs 2 vCPUs and 20000 MiB within NUMA cells; the host's 1 cell(s) hold at most 8 cores "
                "and 16384 MiB each")


def test_it_ignores_numa_cells_for_a_vm_that_does_not_need_them():
    lopsided = ((tuple(range(8)), 12288), (tuple(range(8, 16)), 4096))
    assert refusal(vm(vcpus=6, memory_mb=12288), host(numa_cells=lopsided)) is None


# Filter order and pinning ----------------------------------------------------------

def test_it_names_the_first_failing_filter():
    # Fails status, memory and network: status comes first.
    assert refusal(vm(memory_mb=99999, networks=frozenset({7})), host(status=HostStatus.DOWN))[0] == "status"
    assert refusal(vm(memory_mb=99999, networks=frozenset({7})), host())[0] == "memory"
    assert refusal(vm(vcpus=99, networks=frozenset({7}), storage_domains=frozenset({7})), host())[0] == "cpu"
    assert refusal(vm(networks=frozenset({7}), storage_domains=frozenset({7})), host())[0] == "network"


def test_it_considers_only_the_pinned_host():
    hosts = [host(1, committed_memory_mb=12000), host(2), host(3)]
    placement = place(vm(pinned_host_id=1), hosts, rules(policy=SchedulingPolicy.EVENLY_DISTRIBUTED))
    assert placement.host_id == 1
    assert (verdict(placement, 2).filter, verdict(placement, 2).reason) == ("pinned", "pinned to another host (h1)")
    assert verdict(placement, 3).filter == "pinned"


def test_it_places_nothing_when_the_pinned_host_does_not_fit():
    placement = place(vm(pinned_host_id=1), [host(1, status=HostStatus.MAINTENANCE), host(2)], rules())
    assert placement.host_id is None
    assert [(v.host_id, v.filter) for v in placement.verdicts] == [(1, "status"), (2, "pinned")]


def test_it_says_when_the_pinned_host_is_not_in_the_cluster():
    placement = place(vm(pinned_host_id=9), [host(1)], rules())
    assert placement.host_id is None
    assert placement.verdicts[0].reason == "pinned to another host (id 9, not in this cluster)"


# Policies --------------------------------------------------------------------

def test_none_takes_the_first_host_by_name_that_fits():
    hosts = [host(1, "c"), host(2, "a", status=HostStatus.DOWN), host(3, "b", committed_memory_mb=1000)]
    placement = place(vm(), hosts, rules(policy=SchedulingPolicy.NONE))
    assert placement.host_name == "b"
    assert placement.summary == "Placed on b: fits; hosts are taken in name order (none)"


def test_evenly_distributed_takes_the_least_loaded_host_after_placement():
    # 10000 MiB hosts, 100 cores (1 % CPU per vCPU); the VM takes 1000 MiB.
    hosts = [
        host(1, memory_mb=10000, cores=100, committed_memory_mb=5000),  # 60 % memory after
        host(2, memory_mb=10000, cores=100, committed_memory_mb=2000),  # 30 %
        host(3, memory_mb=10000, cores=100, committed_memory_mb=1000, cpu_load_percent=50),  # CPU 51 %
    ]
    placement = place(vm(memory_mb=1000, vcpus=1), hosts, rules(policy=SchedulingPolicy.EVENLY_DISTRIBUTED))
    assert [v.host_id for v in placement.verdicts] == [2, 3, 1]
    assert [v.score for v in placement.verdicts] == [30.0, 51.0, 60.0]
    assert placement.summary == ("Placed on h2: least loaded, memory 30 % and CPU 1 % after placement "
                                 "(evenly_distributed)")


def power_saving_hosts() -> list[HostCandidate]:
    """Memory load before placing a 1000 MiB VM on 10000 MiB hosts: 10, 50, 65, 75 %."""
    return [host(i, memory_mb=10000, cores=100, committed_memory_mb=committed)
            for i, committed in [(1, 1000), (2, 5000), (3, 6500), (4, 7500)]]


def test_power_saving_fills_the_busiest_host_that_stays_under_high_utilization():
    placement = place(vm(memory_mb=1000, vcpus=1), power_saving_hosts(), rules(policy=SchedulingPolicy.POWER_SAVING))
    # h4 would reach 85 % (over the default 80 %); h1 is under-used (10 % < 20 %).
    assert [v.host_id for v in placement.verdicts] == [3, 2, 1, 4]
    assert placement.summary == ("Placed on h3: busiest host that fits, memory 75 % and CPU 1 % after placement, "
                                 "under HighUtilization 80 % (power_saving)")
    assert verdict(placement, 4).reason == "memory 85 % and CPU 1 % after placement, above HighUtilization 80 %"


def test_power_saving_follows_the_clusters_high_utilization():
    placement = place(vm(memory_mb=1000, vcpus=1), power_saving_hosts(),
                      rules(policy=SchedulingPolicy.POWER_SAVING, parameters={"HighUtilization": 90}))
    assert placement.host_id == 4


def test_power_saving_avoids_hosts_under_low_utilization_unless_nothing_else_fits():
    under_used = [host(1, memory_mb=10000, cores=100, committed_memory_mb=1000),
                  host(5, memory_mb=10000, cores=100, committed_memory_mb=500)]
    placement = place(vm(memory_mb=1000, vcpus=1), under_used, rules(policy=SchedulingPolicy.POWER_SAVING))
    assert placement.host_id == 1  # the busier of the two: the other may empty and power down
    assert placement.summary.startswith("Placed on h1: only under-used hosts fit, the busiest of them: ")
    # A LowUtilization of 6 % no longer counts h1 (10 %) as under-used; h5 (5 %) still is.
    placement = place(vm(memory_mb=1000, vcpus=1), under_used,
                      rules(policy=SchedulingPolicy.POWER_SAVING, parameters={"LowUtilization": 6}))
    assert [v.host_id for v in placement.verdicts] == [1, 5]
    assert placement.verdicts[1].reason == ("memory 15 % and CPU 1 % after placement; 5 % before, "
                                            "under LowUtilization 6 %")


def test_power_saving_takes_the_least_loaded_host_when_all_go_over_high_utilization():
    crowded = [host(1, memory_mb=10000, cores=100, committed_memory_mb=8500),
               host(2, memory_mb=10000, cores=100, committed_memory_mb=7500)]
    placement = place(vm(memory_mb=1000, vcpus=1), crowded, rules(policy=SchedulingPolicy.POWER_SAVING))
    assert placement.host_id == 2
    assert "every host fits only above HighUtilization" in placement.summary


def test_vm_evenly_distributed_takes_the_host_with_fewest_vms():
    hosts = [host(1, vm_count=4), host(2, vm_count=2), host(3, vm_count=3)]
    placement = place(vm(), hosts, rules(policy=SchedulingPolicy.VM_EVENLY_DISTRIBUTED))
    assert [v.host_id for v in placement.verdicts] == [2, 3, 1]
    assert placement.summary == "Placed on h2: fewest VMs, 2 VMs (vm_evenly_distributed)"


def test_vm_evenly_distributed_counts_spm_vm_grace_on_the_spm_host():
    hosts = [host(1, vm_count=2, is_spm=True), host(2, vm_count=4)]
    placement = place(vm(), hosts, rules(policy=SchedulingPolicy.VM_EVENLY_DISTRIBUTED))
    assert placement.host_id == 2  # 2 + 5 (default grace) = 7 > 4
    assert verdict(placement, 1).reason == "2 VMs + 5 SPM grace = 7"
    placement = place(vm(), hosts, rules(policy=SchedulingPolicy.VM_EVENLY_DISTRIBUTED,
                                         parameters={"SpmVmGrace": 1}))
    assert placement.host_id == 1  # 2 + 1 = 3 < 4


def test_vm_evenly_distributed_puts_hosts_at_high_vm_count_last():
    # The SPM host counts 6 + 5 = 11 but really runs 6; h2 runs the 10 of HighVmCount.
    hosts = [host(1, vm_count=6, is_spm=True), host(2, vm_count=10)]
    placement = place(vm(), hosts, rules(policy=SchedulingPolicy.VM_EVENLY_DISTRIBUTED))
    assert placement.host_id == 1
    assert verdict(placement, 2).reason == "10 VMs, at or above HighVmCount 10"
    # All crowded: still the fewest.
    placement = place(vm(), [host(1, vm_count=4), host(2, vm_count=3)],
                      rules(policy=SchedulingPolicy.VM_EVENLY_DISTRIBUTED, parameters={"HighVmCount": 3}))
    assert placement.host_id == 2
    assert placement.summary == ("Placed on h2: every host is at HighVmCount, fewest VMs: 3 VMs, at or above "
                                 "HighVmCount 3 (vm_evenly_distributed)")


def test_cluster_maintenance_starts_no_new_vm():
    placement = place(vm(), [host(1), host(2)], rules(policy=SchedulingPolicy.CLUSTER_MAINTENANCE))
    assert placement.host_id is None
    assert {(v.filter, v.passed) for v in placement.verdicts} == {("policy", False)}
    assert placement.summary == ("No host fits: the cluster is in maintenance (cluster_maintenance policy): "
                                 "no new VM starts in it")


def test_it_refuses_an_unknown_policy():
    with pytest.raises(ValueError, match="'round_robin'"):
        place(vm(), [host()], rules(policy="round_robin"))


# Outcome ---------------------------------------------------------------------

def test_it_places_nothing_when_no_host_fits_and_names_each_hosts_filter():
    hosts = [host(2, status=HostStatus.NON_RESPONSIVE), host(1, memory_mb=1024)]
    placement = place(vm(), hosts, rules(policy=SchedulingPolicy.EVENLY_DISTRIBUTED))
    assert (placement.host_id, placement.host_name) == (None, None)
    assert [(v.host_name, v.passed, v.filter, v.score) for v in placement.verdicts] == [
        ("h1", False, "memory", None), ("h2", False, "status", None)]
    assert placement.summary == "No host fits: h1 rejected by memory, h2 by status"


def test_it_shortens_the_summary_of_many_refused_hosts():
    hosts = [host(i, status=HostStatus.DOWN) for i in range(1, 9)]
    assert place(vm(), hosts, rules()).summary == (
        "No host fits: h1 rejected by status, h2 by status, h3 by status, h4 by status, h5 by status and 3 more")


def test_it_places_nothing_in_a_cluster_without_hosts():
    placement = place(vm(), [], rules())
    assert (placement.host_id, placement.verdicts, placement.summary) == (
        None, (), "No host fits: the cluster has no hosts")


def test_it_lists_passed_hosts_best_first_then_refused_hosts_nearest_miss_first():
    hosts = [host(1, status=HostStatus.DOWN), host(2, vm_count=3), host(3, networks=frozenset()),
             host(4, vm_count=1), host(5, memory_mb=1024)]
    placement = place(vm(networks=frozenset({1})), hosts, rules(policy=SchedulingPolicy.VM_EVENLY_DISTRIBUTED))
    assert [(v.host_id, v.filter) for v in placement.verdicts] == [
        (4, None), (2, None), (3, "network"), (5, "memory"), (1, "status")]


def test_its_record_is_json_serialisable():
    hosts = [host(1, vm_count=2, is_spm=True), host(2, status=HostStatus.MAINTENANCE), host(3)]
    placement = place(vm(), hosts, rules(policy=SchedulingPolicy.VM_EVENLY_DISTRIBUTED))
    record = placement.as_dict()
    assert json.loads(json.dumps(record)) == record
    assert record == {"host": 3, "reasons": [
        {"host": 3, "host_name": "h3", "passed": True, "filter": None, "reason": "0 VMs", "score": 0.0},
        {"host": 1, "host_name": "h1", "passed": True, "filter": None, "reason": "2 VMs + 5 SPM grace = 7",
         "score": 7.0},
        {"host": 2, "host_name": "h2", "passed": False, "filter": "status",
         "reason": "host is in maintenance; only up hosts take new VMs", "score": None},
    ]}


@pytest.mark.parametrize("policy", [SchedulingPolicy.NONE, SchedulingPolicy.EVENLY_DISTRIBUTED,
                                    SchedulingPolicy.POWER_SAVING, SchedulingPolicy.VM_EVENLY_DISTRIBUTED])
def test_it_breaks_ties_by_name_then_id_whatever_the_order_given(policy):
    twins = [host(7, "b"), host(3, "a"), host(5, "b"), host(4, "c")]
    chosen = set()
    for seed in range(10):
        shuffled = twins[:]
        random.Random(seed).shuffle(shuffled)
        placement = place(vm(), shuffled, rules(policy=policy))
        chosen.add(tuple(v.host_id for v in placement.verdicts))
    assert chosen == {(3, 5, 7, 4)}


def test_it_fills_missing_parameters_with_the_defaults():
    # An empty dict, as a cluster saved before the policy changed might hold.
    hosts = [host(1, memory_mb=10000, cores=100, committed_memory_mb=7100)]
    placement = place(vm(memory_mb=1000, vcpus=1), hosts, rules(policy=SchedulingPolicy.POWER_SAVING, parameters={}))
    assert placement.verdicts[0].reason.endswith("above HighUtilization 80 %")


def test_it_leaves_its_inputs_alone():
    hosts = [host(2), host(1)]
    frozen = replace(hosts[0])
    place(vm(), hosts, rules(policy=SchedulingPolicy.EVENLY_DISTRIBUTED))
    assert [h.id for h in hosts] == [2, 1] and hosts[0] == frozen
