"""A cluster's capacity: what its up hosts offer under the cluster's memory
overcommit and reserved headroom, against what workloads commit.

inventory must not import the apps that place workloads (vms), so they
register a commitment source here; each source answers for many clusters at
once, so a list page costs the same whatever its length."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Commitment:
    memory_mb: int = 0
    vcpus: int = 0

    def __add__(self, other: Commitment) -> Commitment:
        return Commitment(self.memory_mb + other.memory_mb, self.vcpus + other.vcpus)


CommitmentSource = Callable[[list[int]], dict[int, Commitment]]
_sources: list[CommitmentSource] = []


def register_commitment_source(source: CommitmentSource) -> None:
    """For the vms app: a function from cluster ids to what is committed in each."""
    _sources.append(source)


def clusters_commitment(cluster_ids: Iterable[int]) -> dict[int, Commitment]:
    ids = list(cluster_ids)
    totals = {cluster_id: Commitment() for cluster_id in ids}
    for source in _sources:
        for cluster_id, commitment in source(ids).items():
            totals[cluster_id] = totals[cluster_id] + commitment
    return totals


@dataclass(frozen=True)
class ClusterCapacity:
    physical_memory_mb: int
    memory_mb: int
    memory_committed_mb: int
    vcpus: int
    vcpus_committed: int


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
