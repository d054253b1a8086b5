"""The Migrate dialog (/vms/<id>/migrate/): every other host's verdict from the
scheduler, a destination (or the scheduler's choice) and a policy, then the
job; the same service and form as POST /api/v1/vms/<id>/migrate/."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render

from core.errors import PermissionDenied, PortalError
from vms import selectors
from vms.forms import MigrateForm, migrate_arguments
from vms.models import Vm
from vms.permissions import vm_may, vm_require
from vms.services.migration import MIGRATABLE, migration_destinations, vm_migrate
from vms.views.jobs import refused, started


def migrate_allowed(user, vm: Vm) -> bool:
    """Whether the VM page offers "Migrate" to this user now."""
    return vm.status in MIGRATABLE and vm_may(user, "migrate", vm)


@login_required
def vm_migrate_page(request, pk: int):
    vm = get_object_or_404(selectors.vms_visible_to(request.user), pk=pk)
    try:
        vm_require(request.user, "migrate", vm)
    except PermissionDenied as error:
        refused(request, error)
        return redirect("vms:vm-detail", vm.pk)
    form = MigrateForm(request.POST or None, vm=vm)
    if request.method == "POST" and form.is_valid():
        try:
            job = vm_migrate(vm=vm, user=request.user, **migrate_arguments(form.cleaned_data))
        except PortalError as error:
            form.add_error(None, error.detail)
        else:
            started(request, job)
            return redirect("vms:vm-detail", vm.pk)
    placement = migration_destinations(vm=vm)
    rows = [{**reason, "chosen": reason["passed"] and reason["host"] == placement.host_id}
            for reason in placement.as_dict()["reasons"]]
    return render(request, "vms/vm_migrate.html", {
        "vm": vm, "form": form, "placement_rows": rows, "summary": placement.summary,
        "may_migrate": vm.status in MIGRATABLE,
    })
