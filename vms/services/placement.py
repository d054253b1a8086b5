"""Asks the scheduler where a VM goes: gathers each host of the cluster and
what it already carries in one query, then calls the pure ``vms.scheduler``."""

from __future__ import annotations

from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Coalesce

from core.errors import Conflict
from inventory.choices import NetworkStatus, StorageDomainStatus
from inventory.models import Cluster, Host, Network, StorageDomain
from vms.choices import Optimization, VmStatus
from vms.scheduler import ClusterRules, HostCandidate, Placement, VmDemand, place


def cluster_rules(cluster: Cluster) -> ClusterRules:
    return ClusterRules(
        memory_overcommit_percent=cluster.memory_overcommit_percent,
        reserved_headroom_percent=cluster.reserved_headroom_percent,
        threads_as_cores=cluster.threads_as_cores,
        policy=cluster.scheduling_policy,
        parameters=cluster.scheduling_parameters,
    )


def cluster_candidates(cluster: Cluster, *, leaving_out_vm: int | None = None) -> list[HostCandidate]:
    """Every host of the cluster with what its running VMs commit (the VM
    being placed is left out, so placing it again does not count it twice)."""
    running = Q(vms__status__in=VmStatus.RUNNING)
    if leaving_out_vm is not None:
        running &= ~Q(vms__pk=leaving_out_vm)
    hosts = Host.objects.filter(cluster=cluster).annotate(
        committed_memory=Coalesce(Sum("vms__memory_mb", filter=running), 0),
        committed_guaranteed=Coalesce(Sum("vms__memory_guaranteed_mb", filter=running), 0),
        committed_vcpus=Coalesce(
            Sum(F("vms__cpu_sockets") * F("vms__cpu_cores") * F("vms__cpu_threads"), filter=running), 0
        ),
        running_vms=Count("vms", filter=running),
    ).order_by("name", "pk")
    data_center = cluster.data_center
    networks = frozenset(
        Network.objects.filter(data_center=data_center, status=NetworkStatus.ACTIVE).values_list("pk", flat=True)
    )
    domains = frozenset(
        StorageDomain.objects.filter(data_center=data_center, status=StorageDomainStatus.ACTIVE)
        .values_list("pk", flat=True)
    )
    return [
        HostCandidate(
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
            committed_memory_mb=host.committed_memory,
            committed_guaranteed_mb=host.committed_guaranteed,
            committed_vcpus=host.committed_vcpus,
            vm_count=host.running_vms,
            is_spm=data_center.spm_host_id == host.pk,
        )
        for host in hosts
    ]


def vm_demand(
    *, memory_mb: int, memory_guaranteed_mb: int, vcpus: int, optimization: str,
    networks=(), storage_domains=(), pinned_host_id: int | None = None,
) -> VmDemand:
    return VmDemand(
        memory_mb=memory_mb,
        memory_guaranteed_mb=memory_guaranteed_mb,
        vcpus=vcpus,
        networks=frozenset(networks),
        storage_domains=frozenset(storage_domains),
        needs_numa=optimization == Optimization.HIGH_PERFORMANCE,
        pinned_host_id=pinned_host_id,
    )


def placement_for(*, cluster: Cluster, demand: VmDemand, leaving_out_vm: int | None = None) -> Placement:
    return place(demand, cluster_candidates(cluster, leaving_out_vm=leaving_out_vm), cluster_rules(cluster))


def placement_required(placement: Placement, *, vm_name: str) -> int:
    """The chosen host's id, or 409 naming why each host was refused."""
    if placement.host_id is None:
        raise Conflict(f"No host can run VM {vm_name}: {placement.summary}")
    return placement.host_id


def placement_record(placement: Placement) -> dict:
    """What the VM keeps as its last placement (shown in the UI and the API)."""
    return {**placement.as_dict(), "summary": placement.summary}
