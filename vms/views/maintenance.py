"""A host's maintenance plan page (/hosts/<id>/maintenance-plan/): the same
what-if as GET /api/v1/hosts/<id>/maintenance-plan/, for the admin to read
before putting the host into maintenance."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST
from django.urls import reverse

from inventory.actions import ObjectAction
from inventory.choices import HostStatus
from inventory.models import Host
from core.permissions import has_permission
from inventory.selectors import clusters_visible_to, hosts_visible_to
from core.errors import PortalError
from vms.services.balancing import BALANCED_POLICIES, cluster_balance_plan
from vms.services.maintenance import host_maintenance, maintenance_cancel, maintenance_plan, maintenance_plan_may_view


def _administered_host(request, pk: int) -> Host:
    host = get_object_or_404(hosts_visible_to(request.user).select_related("cluster"), pk=pk)
    if not maintenance_plan_may_view(request.user, host):
        raise PermissionDenied(f"You may not manage the maintenance of host {host.name}.")
    return host


@login_required
def host_maintenance_plan(request, pk: int):
    host = _administered_host(request, pk)
    return render(request, "vms/host_maintenance_plan.html", {
        "host": host, "plan": maintenance_plan(host),
        "may_enter": host.status == HostStatus.UP,
        "may_cancel": host.status == HostStatus.PREPARING_FOR_MAINTENANCE,
    })


@login_required
@require_POST
def host_maintenance_page(request, pk: int, cancel: bool = False):
    """The plan page's buttons: enter maintenance, or cancel back to up."""
    host = _administered_host(request, pk)
    try:
        if cancel:
            maintenance_cancel(host=host, user=request.user)
            messages.info(request, f"Host {host.name} is up again.")
        else:
            _plan, jobs = host_maintenance(host=host, user=request.user)
            messages.info(request, f"Host {host.name} is preparing for maintenance: {len(jobs)} migration(s) "
                                   "started; the others follow.")
    except PortalError as error:
        messages.error(request, error.detail)
    return redirect("vms-hosts:maintenance-plan", host.pk)


# A plan is worth reading for a host that runs VMs or is being emptied.
PLANNABLE_STATES = (HostStatus.UP, HostStatus.PREPARING_FOR_MAINTENANCE)


def maintenance_plan_actions(host: Host) -> list[ObjectAction]:
    """The host page's "Maintenance plan" button (shown to the host's admins)."""
    if host.status not in PLANNABLE_STATES:
        return []
    return [ObjectAction("Maintenance plan", reverse("vms-hosts:maintenance-plan", args=[host.pk]), post=False)]


def balance_actions(cluster) -> list[ObjectAction]:
    """The cluster page's "Balancer" button (its dry run)."""
    return [ObjectAction("Balancer", reverse("vms-clusters:balance", args=[cluster.pk]), post=False)]


@login_required
def cluster_balance_page(request, pk: int):
    """The balancer's dry run: what it would do now, and why (no side effect)."""
    cluster = get_object_or_404(clusters_visible_to(request.user), pk=pk)
    if not has_permission(request.user, "change", cluster):
        raise PermissionDenied(f"You may not see the balancer of cluster {cluster.name}.")
    return render(request, "vms/cluster_balance.html", {
        "cluster": cluster, "decision": cluster_balance_plan(cluster),
        "balanced": cluster.scheduling_policy in BALANCED_POLICIES,
    })
