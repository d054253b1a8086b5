"""Maintenance of a host, from the VMs' side: the what-if evacuation plan.

The plan (vms/evacuation.py) runs on the real scheduler with the cluster's
rules and every other host's current commitment, and changes nothing, so the
admin sees before confirming which VM goes where and which cannot move.
"""

from __future__ import annotations

from core.permissions import has_permission
from inventory.models import Host
from vms.choices import Optimization, VmStatus
from vms.evacuation import EvacuationPlan, Evacuee, bandwidth_mib_s, plan_evacuation
from vms.models import Vm
from vms.services.placement import cluster_candidates, cluster_rules, demand_of


def maintenance_plan_may_view(user, host: Host) -> bool:
    """The plan names the host's VMs and moves them: the host's admins only."""
    return has_permission(user, "change", host)


def maintenance_plan(host: Host) -> EvacuationPlan:
    cluster = host.cluster
    vms = (Vm.objects.filter(host=host, status__in=VmStatus.RUNNING)
           .select_related("pinned_host").prefetch_related("nics", "disks").order_by("pk"))
    evacuees = [
        # high_performance VMs have vCPUs and vNUMA pinned to this host's cells.
        Evacuee(id=vm.pk, name=vm.name, demand=demand_of(vm), migratable=vm.optimization != Optimization.HIGH_PERFORMANCE)
        for vm in vms
    ]
    return plan_evacuation(host.pk, evacuees, cluster_candidates(cluster), cluster_rules(cluster),
                           bandwidth_mib_s=bandwidth_mib_s(cluster.migration_bandwidth_mbps))
