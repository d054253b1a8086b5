"""Where a VM goes, asked of the pure ``vms.scheduler``: what a VM (or a VM
creation request) demands, each host of its cluster with what it already
carries (``vms.selectors.vms_commitment``, the one aggregate), and the
cluster's rules.

Placing and claiming the place are one step: ``placement_locked`` first locks
the cluster's row, so parallel starts and creates in one cluster are placed
one after the other, each seeing what the ones before it committed. The
wizard's summary asks the same questions without claiming anything."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import F

from core.errors import Conflict
from inventory.capacity import ClusterCapacity, Commitment, cluster_capacity, clusters_commitment
from inventory.choices import HostStatus, NetworkStatus, StorageDomainStatus
from inventory.models import Cluster, Host, Network, StorageDomain
from inventory.selectors import clusters_visible_to
from vms.choices import Optimization
from vms.models import Vm, vcpu_count
from vms.scheduler import ClusterRules, HostCandidate, Placement, VmDemand, place
from vms.selectors import vms_commitment
from vms.services.requests import VmRequest, vm_request_clean


def cluster_rules(cluster: Cluster) -> ClusterRules:
    return ClusterRules(
        memory_overcommit_percent=cluster.memory_overcommit_percent,
        reserved_headroom_percent=cluster.reserved_headroom_percent,
        threads_as_cores=cluster.threads_as_cores,
        policy=cluster.scheduling_policy,
        parameters=cluster.scheduling_parameters,
    )


def cluster_candidates(cluster: Cluster, *, leaving_out_vm: int | None = None) -> list[HostCandidate]:
    """Every host of the cluster with what its VMs commit (the VM being placed
    is left out, so placing it again does not count it twice)."""
    hosts = list(Host.objects.filter(cluster=cluster).order_by("name", "pk"))
    committed = vms_commitment("host_id", [host.pk for host in hosts], leaving_out_vm=leaving_out_vm)
    data_center = cluster.data_center
    networks = frozenset(
        Network.objects.filter(data_center=data_center, status=NetworkStatus.ACTIVE).values_list("pk", flat=True)
    )
    domains = frozenset(
        StorageDomain.objects.filter(data_center=data_center, status=StorageDomainStatus.ACTIVE)
        .values_list("pk", flat=True)
    )
    candidates = []
    for host in hosts:
        carried = committed.get(host.pk, Commitment())
        candidates.append(HostCandidate(
            id=host.pk,
            name=host.name,
            status=host.status,
            memory_mb=host.memory_mb or 0,
            cores=(host.cpu_sockets or 0) * (host.cpu_cores_per_socket or 0),
            threads=host.cpu_total or 0,
            numa_cells=tuple((tuple(node["cpus"]), node["memory_mb"]) for node in host.numa_nodes),
            # An active network or domain is on every up host of the data
            # center: a host missing one is made non_operational.
            networks=networks,
            storage_domains=domains,
            committed_memory_mb=carried.memory_mb,
            committed_guaranteed_mb=carried.memory_guaranteed_mb,
            committed_vcpus=carried.vcpus,
            vm_count=carried.workloads,
            is_spm=data_center.spm_host_id == host.pk,
        ))
    return candidates


def demand_of(subject: VmRequest | Vm, *, pinned_host: Host | None = None) -> VmDemand:
    """What a VM asks of a host: a cleaned creation request, or an existing VM
    (then ``pinned_host`` is where a start was asked to go, else its pin)."""
    if isinstance(subject, Vm):
        # .all(): served from prefetch_related when the caller prefetched (a plan over many VMs).
        networks = {nic.network_id for nic in subject.nics.all()}
        domains = {disk.storage_domain_id for disk in subject.disks.all()}
        pinned_host = pinned_host or subject.pinned_host
    else:
        networks = {nic.network.pk for nic in subject.nics}
        domains = {disk.storage_domain.pk for disk in subject.disks}
        pinned_host = subject.host
    return VmDemand(
        memory_mb=subject.memory_mb,
        memory_guaranteed_mb=subject.memory_guaranteed_mb,
        vcpus=vcpu_count(subject.cpu_sockets, subject.cpu_cores, subject.cpu_threads),
        networks=frozenset(networks),
        storage_domains=frozenset(domains),
        needs_numa=subject.optimization == Optimization.HIGH_PERFORMANCE,
        pinned_host_id=pinned_host.pk if pinned_host else None,
    )


def placement_for(*, cluster: Cluster, demand: VmDemand, leaving_out_vm: int | None = None) -> Placement:
    return place(demand, cluster_candidates(cluster, leaving_out_vm=leaving_out_vm), cluster_rules(cluster))


def cluster_lock(cluster_id: int) -> None:
    """Take the cluster's lock until the caller's transaction ends. An UPDATE
    of its row: a row lock on PostgreSQL, the database's write lock on SQLite,
    so it must be the transaction's first statement there: a transaction that
    has read (even a lazy ``vm.cluster``) gets "database is locked" at once
    instead of waiting for the lock."""
    Cluster.objects.filter(pk=cluster_id).update(name=F("name"))


def placement_refusal(placement: Placement, *, vm_name: str) -> Conflict:
    """The 409 of a placement that found no host, naming why each was refused."""
    return Conflict(f"No host can run VM {vm_name}: {placement.summary}")


def placement_required(placement: Placement, *, vm_name: str) -> int:
    """The chosen host's id, or the placement's refusal."""
    if placement.host_id is None:
        raise placement_refusal(placement, vm_name=vm_name)
    return placement.host_id


def placement_record(placement: Placement) -> dict:
    """What the VM keeps as its last placement (shown in the UI and the API)."""
    return {**placement.as_dict(), "summary": placement.summary}


# ---- the wizard's summary: the same questions, nothing claimed ---------------

@dataclass(frozen=True)
class ClusterOutlook:
    """The cluster's memory and vCPUs committed, before and with a new VM,
    with the bar's shares (of the larger of the limit and what would be
    committed)."""

    cluster: Cluster
    capacity: ClusterCapacity
    committed: int
    this: int
    after: int
    allowed: int
    over: bool
    committed_pct: float
    this_pct: float
    limit_pct: float
    after_pct: int | None
    vcpus_after: int
    vcpus: int


@dataclass(frozen=True)
class PlacementPreview:
    request: VmRequest  # cleaned: every default filled in
    vcpus: int
    placement: Placement
    commitment: ClusterOutlook | None  # None: the user may not see the cluster's figures

    @property
    def placement_rows(self) -> list[dict]:
        return [
            {"host": v.host_id, "host_name": v.host_name, "passed": v.passed, "filter": v.filter, "reason": v.reason,
             "score": v.score, "chosen": v.host_id == self.placement.host_id}
            for v in self.placement.verdicts
        ]


def placement_preview(*, request: VmRequest, user) -> PlacementPreview:
    """Where the VM ``request`` asks for would go and what it does to its
    cluster; a ValidationError names each bad field, as vm_create's would."""
    request = vm_request_clean(request)
    demand = demand_of(request)
    return PlacementPreview(
        request=request, vcpus=demand.vcpus, placement=placement_for(cluster=request.cluster, demand=demand),
        commitment=_outlook(request, demand.vcpus, user),
    )


def _outlook(request: VmRequest, vcpus: int, user) -> ClusterOutlook | None:
    cluster = clusters_visible_to(user).filter(pk=request.cluster.pk).first()
    if cluster is None:
        return None
    capacity = cluster_capacity(cluster, clusters_commitment([cluster.pk])[cluster.pk])
    committed, this, allowed = capacity.memory_committed_mb, request.memory_mb, capacity.memory_mb
    scale = max(allowed, committed + this, 1)
    return ClusterOutlook(
        cluster=cluster, capacity=capacity, committed=committed, this=this, after=committed + this,
        allowed=allowed, over=committed + this > allowed,
        committed_pct=round(100 * committed / scale, 1), this_pct=round(100 * this / scale, 1),
        limit_pct=round(100 * allowed / scale, 1),
        after_pct=round(100 * (committed + this) / allowed) if allowed else None,
        vcpus_after=capacity.vcpus_committed + vcpus, vcpus=capacity.vcpus,
    )


def cluster_largest_host(cluster: Cluster | None) -> Host | None:
    """The up host with the most memory (then CPUs): what the wizard sizes a VM against."""
    if cluster is None:
        return None
    return (Host.objects.filter(cluster=cluster, status=HostStatus.UP, memory_mb__isnull=False)
            .order_by("-memory_mb", "-cpu_total", "name").first())
