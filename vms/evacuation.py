"""The evacuation plan of a host: where each of its VMs would go, and why not.

Pure functions over the scheduler's own types (no Django, no libvirt), so the
maintenance plan the admin reads before confirming, and the evacuation that
follows it, are decided by the very filters and weights that place new VMs.
oVirt puts a host into preparing_for_maintenance without asking whether its
VMs fit elsewhere and can hang there forever; this is the question asked first.

The VMs are placed one at a time, largest memory first (first-fit decreasing:
the big ones are the hard ones), each on the cluster's other hosts as they
would be after the moves planned before it.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass, replace

from vms.scheduler import ClusterRules, HostCandidate, Placement, VmDemand, place

# At most this many migrations leave a host, and as many arrive, at once (oVirt's default, DOMAIN.md);
# the evacuation runs the others after them.
MAX_MIGRATIONS_PER_HOST = 2
# libvirt's bandwidth when neither the cluster nor the link says (oVirt's 52 MiB/s).
DEFAULT_MIGRATION_BANDWIDTH_MIB_S = 52
# What a migration costs beyond copying memory once: setting up the
# destination, the dirty-page rounds, the switch-over.
MIGRATION_OVERHEAD_SECONDS = 2.0


class BlockerKind:
    PINNED = "pinned"  # pinned to this host: only the admin can move it
    NOT_MIGRATABLE = "not_migratable"  # high_performance: may be stopped and started elsewhere
    NO_ROOM = "no_room"  # no other host passes the scheduler's filters


@dataclass(frozen=True, slots=True, kw_only=True)
class Evacuee:
    """A VM running on the host to be emptied."""

    id: int
    name: str
    demand: VmDemand
    migratable: bool  # live migration allowed (high_performance VMs are not)
    host_id: int | None = None  # where it runs (the balancer groups by it)


@dataclass(frozen=True, slots=True)
class Move:
    vm_id: int
    vm_name: str
    to_host_id: int
    to_host_name: str
    memory_mb: int
    reason: str  # the scheduler's one line on why that host


@dataclass(frozen=True, slots=True)
class Blocker:
    vm_id: int
    vm_name: str
    kind: str  # a BlockerKind
    reason: str
    # Where a stopped VM could start again (NOT_MIGRATABLE only; None: nowhere).
    restart_host_id: int | None = None
    restart_host_name: str | None = None


@dataclass(frozen=True, slots=True)
class EvacuationPlan:
    host_id: int
    moves: tuple[Move, ...]
    blockers: tuple[Blocker, ...]
    memory_mb_moved: int
    estimated_seconds: float

    @property
    def feasible(self) -> bool:
        """Every VM can leave by live migration: maintenance can go ahead."""
        return not self.blockers


def plan_evacuation(
    host_id: int,
    evacuees: Sequence[Evacuee],
    hosts: Sequence[HostCandidate],
    rules: ClusterRules,
    *,
    bandwidth_mib_s: float = DEFAULT_MIGRATION_BANDWIDTH_MIB_S,
) -> EvacuationPlan:
    """The plan for emptying ``host_id``; ``hosts`` may include it (left out)."""
    if bandwidth_mib_s <= 0:
        raise ValueError("The migration bandwidth must be positive.")
    source = next((host for host in hosts if host.id == host_id), None)
    source_name = source.name if source else f"host {host_id}"
    targets = {host.id: host for host in hosts if host.id != host_id}
    moves: list[Move] = []
    blockers: list[Blocker] = []
    for vm in sorted(evacuees, key=lambda vm: (-vm.demand.memory_mb, vm.name, vm.id)):
        if vm.demand.pinned_host_id == host_id:
            blockers.append(Blocker(vm.id, vm.name, BlockerKind.PINNED,
                                    f"pinned to {source_name}: unpin it or move it by hand first"))
            continue
        placement = place(vm.demand, list(targets.values()), rules)
        if not vm.migratable:
            where = (f"it could start again on {placement.host_name}" if placement.host_id is not None
                     else _refusals(placement))
            blockers.append(Blocker(vm.id, vm.name, BlockerKind.NOT_MIGRATABLE,
                                    f"high_performance VMs are not live-migrated; stop it first ({where})",
                                    placement.host_id, placement.host_name))
            if placement.host_id is not None:
                targets[placement.host_id] = host_with_vm(targets[placement.host_id], vm.demand)
            continue
        if placement.host_id is None:
            blockers.append(Blocker(vm.id, vm.name, BlockerKind.NO_ROOM, _refusals(placement)))
            continue
        moves.append(Move(vm.id, vm.name, placement.host_id, placement.host_name, vm.demand.memory_mb,
                          placement.summary))
        targets[placement.host_id] = host_with_vm(targets[placement.host_id], vm.demand)
    memory = sum(move.memory_mb for move in moves)
    return EvacuationPlan(host_id, tuple(moves), tuple(blockers), memory,
                          _estimated_seconds([move.memory_mb for move in moves], bandwidth_mib_s))


def _refusals(placement: Placement, shown: int = 3) -> str:
    """Each nearest miss with its figures: what the admin must change."""
    misses = "; ".join(f"{verdict.host_name}: {verdict.reason}" for verdict in placement.verdicts[:shown])
    more = len(placement.verdicts) - shown
    return f"no other host fits ({misses}{f'; {more} more' if more > 0 else ''})" if misses else \
        "no other host in the cluster"


def host_with_vm(host: HostCandidate, vm: VmDemand) -> HostCandidate:
    """The host as it will be once the VM has arrived."""
    return replace(
        host,
        committed_memory_mb=host.committed_memory_mb + vm.memory_mb,
        committed_guaranteed_mb=host.committed_guaranteed_mb + vm.memory_guaranteed_mb,
        committed_vcpus=host.committed_vcpus + vm.vcpus,
        vm_count=host.vm_count + 1,
    )


def _estimated_seconds(memories_mb: Sequence[int], bandwidth_mib_s: float) -> float:
    """How long the moves take, MAX_MIGRATIONS_PER_HOST at a time, each copying
    the VM's memory once at the bandwidth: the longest first onto whichever
    lane frees first, and the plan ends with the busiest lane."""
    lanes = [0.0] * MAX_MIGRATIONS_PER_HOST
    for memory in sorted(memories_mb, reverse=True):
        heapq.heappush(lanes, heapq.heappop(lanes) + memory / bandwidth_mib_s + MIGRATION_OVERHEAD_SECONDS)
    return round(max(lanes), 1)


def bandwidth_mib_s(cluster_mbps: int | None) -> float:
    """The cluster's limit (megabits per second, as oVirt's form asks) in MiB/s;
    the default when the cluster leaves it automatic."""
    if not cluster_mbps:
        return DEFAULT_MIGRATION_BANDWIDTH_MIB_S
    return cluster_mbps * 1_000_000 / 8 / 2**20
