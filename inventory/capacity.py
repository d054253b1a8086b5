"""A cluster's capacity: what its up hosts offer under the cluster's memory
overcommit and reserved headroom, against what workloads commit.

inventory must not import the apps that place workloads (vms), so they
register a commitment source here; each source answers for many clusters at
once, so a list page costs the same whatever its length."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import astuple, dataclass


@dataclass(frozen=True)
class Commitment:
    memory_mb: int = 0
    vcpus: int = 0
    workloads: int = 0  # how many running workloads (VMs) commit it
    memory_guaranteed_mb: int = 0  # the share of memory_mb never overcommitted

    def __add__(self, other: Commitment) -> Commitment:
        return Commitment(*(mine + theirs for mine, theirs in zip(astuple(self), astuple(other), strict=True)))


@dataclass(frozen=True)
class Workload:
    """One running workload, as a host page lists it."""

    name: str
    url: str
    status: str
    memory_mb: int
    vcpus: int


CommitmentSource = Callable[[list[int]], dict[int, Commitment]]
WorkloadSource = Callable[[int], list[Workload]]
_cluster_sources: list[CommitmentSource] = []
_host_sources: list[CommitmentSource] = []
_host_workload_sources: list[WorkloadSource] = []


def register_commitment_source(source: CommitmentSource) -> None:
    """For the vms app: a function from cluster ids to what is committed in each."""
    _cluster_sources.append(source)


def register_host_commitment_source(source: CommitmentSource) -> None:
    """The same per host: what runs on each of the given hosts."""
    _host_sources.append(source)


def register_host_workload_source(source: WorkloadSource) -> None:
    """A function from a host id to the workloads running there."""
    _host_workload_sources.append(source)


def _summed(sources: list[CommitmentSource], ids: Iterable[int]) -> dict[int, Commitment]:
    ids = list(ids)
    totals = {object_id: Commitment() for object_id in ids}
    for source in sources:
        for object_id, commitment in source(ids).items():
            totals[object_id] = totals[object_id] + commitment
    return totals


def clusters_commitment(cluster_ids: Iterable[int]) -> dict[int, Commitment]:
    return _summed(_cluster_sources, cluster_ids)


def hosts_commitment(host_ids: Iterable[int]) -> dict[int, Commitment]:
    return _summed(_host_sources, host_ids)


def host_workloads(host_id: int) -> list[Workload]:
    return [workload for source in _host_workload_sources for workload in source(host_id)]


def percent(part: int, whole: int) -> int:
    """`part` of `whole` in whole percent, as the capacity bars draw it (0 when there is no whole)."""
    return round(100 * part / whole) if whole else 0


@dataclass(frozen=True)
class ClusterCapacity:
    physical_memory_mb: int
    memory_mb: int
    memory_committed_mb: int
    vcpus: int
    vcpus_committed: int

    def bars(self) -> list[tuple[str, int]]:
        """(label, percent) of memory and vCPUs committed: the cluster page's and the dashboard's bars."""
        return [
            (f"Memory committed: {self.memory_committed_mb} of {self.memory_mb} MiB",
             percent(self.memory_committed_mb, self.memory_mb)),
            (f"vCPUs committed: {self.vcpus_committed} of {self.vcpus}", percent(self.vcpus_committed, self.vcpus)),
        ]


def cluster_capacity(cluster, commitment: Commitment) -> ClusterCapacity:
    """`cluster` comes from clusters_visible_to (it carries the up hosts' sums).
    Memory that may be committed = physical x overcommit % less the reserved
    headroom; vCPUs count host threads, or only cores unless the cluster
    counts threads as cores."""
    physical = cluster.up_memory_mb or 0
    usable_share = cluster.memory_overcommit_percent / 100 * (100 - cluster.reserved_headroom_percent) / 100
    return ClusterCapacity(
        physical_memory_mb=physical,
        memory_mb=int(physical * usable_share),
        memory_committed_mb=commitment.memory_mb,
        vcpus=(cluster.up_threads if cluster.threads_as_cores else cluster.up_cores) or 0,
        vcpus_committed=commitment.vcpus,
    )
