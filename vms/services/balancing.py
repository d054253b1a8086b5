"""The cluster balancer's side with the database: the dry run for the page,
and the periodic step that carries a decision out (vms/balancing.py decides).

A step is skipped while a migration of the cluster is under way, so each
decision sees the result of the last. Every decision taken is an event with
its reason. Power actions are recorded as decisions (events, and the dry-run
page) but not carried out yet: powering hosts through their BMC comes with
fencing.
"""

from __future__ import annotations

from collections import defaultdict

from core.errors import PortalError
from core.events import event_record
from core.models import Severity
from inventory.choices import SchedulingPolicy
from inventory.models import Cluster, Host
from vms.balancing import BalanceDecision, DecisionKind, PowerState, balance
from vms.models import Vm
from vms.selectors import vms_with_active_jobs
from vms.services.maintenance import running_evacuees
from vms.services.migration import vm_migrate
from vms.services.placement import cluster_candidates, cluster_rules

BALANCED_POLICIES = (SchedulingPolicy.EVENLY_DISTRIBUTED, SchedulingPolicy.POWER_SAVING,
                     SchedulingPolicy.VM_EVENLY_DISTRIBUTED)


def cluster_balance_plan(cluster: Cluster) -> BalanceDecision | None:
    """What the balancer would do now (no side effect)."""
    if cluster.scheduling_policy not in BALANCED_POLICIES:
        return None
    by_host = defaultdict(list)
    for evacuee in running_evacuees(Vm.objects.filter(cluster=cluster)):
        by_host[evacuee.host_id].append(evacuee)
    power = {host.pk: PowerState(power_managed=host.pm_enabled and bool(host.pm_address))
             for host in Host.objects.filter(cluster=cluster)}
    return balance(cluster_candidates(cluster), by_host, cluster_rules(cluster), power)


def cluster_balance(cluster: Cluster) -> BalanceDecision | None:
    """One step of the balancer (the periodic task); the decision taken, if any."""
    if vms_with_active_jobs(Vm.objects.filter(cluster=cluster), kind="vm.migrate"):
        return None
    decision = cluster_balance_plan(cluster)
    if decision is None:
        return None
    if decision.kind == DecisionKind.MIGRATE:
        vm = Vm.objects.select_related("cluster").get(pk=decision.vm_id)
        try:
            vm_migrate(vm=vm, user=None, host=Host.objects.get(pk=decision.to_host_id))
        except PortalError as error:  # changed since the plan: the next step sees it
            event_record(code="cluster.balance_skipped", target=cluster, severity=Severity.WARNING,
                         message=f"Balancing {cluster.name}: {decision.reason}; not started: {error.detail}")
            return None
    event_record(code=f"cluster.balance_{decision.kind}", target=cluster,
                 message=f"Balancing {cluster.name} ({cluster.scheduling_policy}): {decision.reason}"
                         + ("" if decision.kind == DecisionKind.MIGRATE else " (not carried out: power actions "
                                                                               "by the balancer come with fencing)"))
    return decision


def clusters_balance_all() -> None:
    for cluster in Cluster.objects.filter(scheduling_policy__in=BALANCED_POLICIES):
        cluster_balance(cluster)
