"""A host's maintenance plan page (/hosts/<id>/maintenance-plan/): the same
what-if as GET /api/v1/hosts/<id>/maintenance-plan/, for the admin to read
before putting the host into maintenance."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from inventory.actions import ObjectAction
from inventory.choices import HostStatus
from inventory.models import Host
from inventory.selectors import hosts_visible_to
from vms.services.maintenance import maintenance_plan, maintenance_plan_may_view


@login_required
def host_maintenance_plan(request, pk: int):
    host = get_object_or_404(hosts_visible_to(request.user).select_related("cluster"), pk=pk)
    if not maintenance_plan_may_view(request.user, host):
        raise PermissionDenied(f"You may not plan maintenance of host {host.name}.")
    return render(request, "vms/host_maintenance_plan.html", {"host": host, "plan": maintenance_plan(host)})


# A plan is worth reading for a host that runs VMs or is being emptied.
PLANNABLE_STATES = (HostStatus.UP, HostStatus.PREPARING_FOR_MAINTENANCE)


def maintenance_plan_actions(host: Host) -> list[ObjectAction]:
    """The host page's "Maintenance plan" button (shown to the host's admins)."""
    if host.status not in PLANNABLE_STATES:
        return []
    return [ObjectAction("Maintenance plan", reverse("vms-hosts:maintenance-plan", args=[host.pk]), post=False)]
