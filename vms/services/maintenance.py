"""Maintenance of a host, from the VMs' side: the what-if evacuation plan, and
the evacuation itself.

The plan (vms/evacuation.py) runs on the real scheduler with the cluster's
rules and every other host's current commitment, and changes nothing, so the
admin sees before confirming which VM goes where and which cannot move.
"""

from __future__ import annotations

from core.errors import Conflict, PortalError
from core.permissions import has_permission
from inventory.choices import HostStatus
from inventory.models import Host
from inventory.services.hosts import host_set_status
from vms.choices import Optimization, VmStatus
from vms.evacuation import EvacuationPlan, Evacuee, bandwidth_mib_s, plan_evacuation
from vms.models import Vm
from vms.selectors import vms_with_active_jobs
from vms.services.migration import vm_migrate
from vms.services.placement import cluster_candidates, cluster_rules, demand_of


def maintenance_plan_may_view(user, host: Host) -> bool:
    """The plan names the host's VMs and moves them: the host's admins only."""
    return has_permission(user, "change", host)


def maintenance_plan(host: Host) -> EvacuationPlan:
    cluster = host.cluster
    evacuees = running_evacuees(Vm.objects.filter(host=host))
    return plan_evacuation(host.pk, evacuees, cluster_candidates(cluster), cluster_rules(cluster),
                           bandwidth_mib_s=bandwidth_mib_s(cluster.migration_bandwidth_mbps))


def running_evacuees(vms) -> list[Evacuee]:
    """The running VMs among ``vms`` as the planners see them (a few queries, however many)."""
    running = (vms.filter(status__in=VmStatus.RUNNING).select_related("pinned_host")
               .prefetch_related("nics", "disks").order_by("pk"))
    return [
        # high_performance VMs have vCPUs and vNUMA pinned to their host's cells.
        Evacuee(id=vm.pk, name=vm.name, demand=demand_of(vm), migratable=vm.optimization != Optimization.HIGH_PERFORMANCE,
                host_id=vm.host_id)
        for vm in running
    ]


# ---- maintenance mode: the evacuation, as a chain of migration jobs --------------
#
# No long job holds the evacuation: the host's status does. Entering
# maintenance moves the host to preparing_for_maintenance (which also hands
# the SPM role over: inventory's spm_review elects among up hosts) and starts
# a migration job per move of the plan; each migration's end, and a periodic
# task (so a restarted worker resumes), call maintenance_continue, which
# starts what can start now and, once no VM is left, puts the host in
# maintenance. What blocks is kept in the host's status reason.

def host_maintenance(*, host: Host, user) -> tuple[EvacuationPlan, list]:
    """Enter maintenance: 409 unless the host is up; returns the plan and the
    migration jobs started now. A host whose plan has blockers still enters
    preparing_for_maintenance (no new VM goes there) and shows them; the
    admin moves or stops those VMs, or cancels back to up."""
    if not host_set_status(host=host, status=HostStatus.PREPARING_FOR_MAINTENANCE, expected=HostStatus.UP,
                           reason=f"Maintenance asked by {user}: its VMs move to other hosts."):
        host.refresh_from_db()
        raise Conflict(f"Host {host.name} is {HostStatus.label(host.status).lower()}; only a host that is up "
                       "can enter maintenance.")
    return maintenance_continue(host=host, user=user)


def maintenance_cancel(*, host: Host, user) -> None:
    """Back to up (migrations already running finish where they go)."""
    if not host_set_status(host=host, status=HostStatus.UP, expected=HostStatus.PREPARING_FOR_MAINTENANCE,
                           reason=f"Maintenance cancelled by {user}."):
        host.refresh_from_db()
        raise Conflict(f"Host {host.name} is {HostStatus.label(host.status).lower()}; only a host preparing for "
                       "maintenance can go back to up this way (activate one in maintenance).")


def maintenance_continue(*, host: Host, user=None) -> tuple[EvacuationPlan, list]:
    """One step of the evacuation (idempotent): start the migrations that
    can start, or finish when the host is empty."""
    host = Host.objects.select_related("cluster__data_center").get(pk=host.pk)
    plan = maintenance_plan(host)
    if host.status != HostStatus.PREPARING_FOR_MAINTENANCE:
        return plan, []
    on_host = Vm.objects.filter(host=host, status__in=VmStatus.RUNNING)
    if not on_host.exists():
        host_set_status(host=host, status=HostStatus.MAINTENANCE, expected=HostStatus.PREPARING_FOR_MAINTENANCE,
                        reason="Every VM has left; the host may be serviced.")
        return plan, []
    busy = vms_with_active_jobs(on_host)
    jobs, blocked = [], [f"{blocker.vm_name}: {blocker.reason}" for blocker in plan.blockers]
    for move in plan.moves:
        vm = Vm.objects.select_related("cluster").get(pk=move.vm_id)
        if vm.pk in busy or vm.status != VmStatus.UP:
            continue  # migrating already, or held by another job: its end calls us again
        try:
            jobs.append(vm_migrate(vm=vm, user=user, host=Host.objects.get(pk=move.to_host_id)))
        except PortalError as error:
            blocked.append(f"{vm.name}: {error.detail}")
    reason = ("Waiting for: " + "; ".join(blocked)) if blocked else \
        f"Moving {len(on_host)} VM(s) to other hosts."
    if reason != host.status_reason:
        host_set_status(host=host, status=HostStatus.PREPARING_FOR_MAINTENANCE,
                        expected=HostStatus.PREPARING_FOR_MAINTENANCE, reason=reason)
    return plan, jobs


def maintenance_migration_ended(*, source_id: int, vm: Vm, failure: str = "") -> None:
    """A migration off ``source_id`` ended: the evacuation's next step. A
    failed one is not retried at once (it would fail again at once): it is
    shown as the blocker and retried by the periodic step."""
    host = Host.objects.filter(pk=source_id, status=HostStatus.PREPARING_FOR_MAINTENANCE).first()
    if host is None:
        return
    if failure:
        host_set_status(host=host, status=HostStatus.PREPARING_FOR_MAINTENANCE,
                        expected=HostStatus.PREPARING_FOR_MAINTENANCE,
                        reason=f"Waiting for: {vm.name}: its migration failed ({failure}); tried again shortly.")
        return
    maintenance_continue(host=host)


def maintenance_resume_all() -> None:
    """The periodic safety net: every host preparing for maintenance takes
    its next step (after a worker restart, or once a blocker is gone)."""
    for host in Host.objects.filter(status=HostStatus.PREPARING_FOR_MAINTENANCE):
        maintenance_continue(host=host)
