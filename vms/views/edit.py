"""The Edit page of a VM: its own settings, through the same service as
``PATCH /api/v1/vms/<id>/`` (vms.services.edit.vm_edit)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render

from core.errors import PermissionDenied, PortalError
from vms.forms import EditForm, EditNicFormSet, edit_nics_of, vm_networks_of
from vms.permissions import vm_require
from vms.services.edit import EDITABLE_DOWN, EDITABLE_RUNNING, vm_edit, vm_settings
from vms.views.jobs import refused
from vms.views.pages import _form_errors, _visible_vm


@login_required
def vm_edit_page(request, pk: int):
    vm = _visible_vm(request, pk)
    try:
        vm_require(request.user, "edit", vm)
    except PermissionDenied as error:
        refused(request, error)
        return redirect("vms:vm-detail", vm.pk)
    # What it will be: its settings with the changes waiting for its next start.
    settings = vm_settings(vm)
    form = EditForm(request.POST or None, initial=settings)
    nics = EditNicFormSet(request.POST or None, prefix="nics", initial=settings["nics"],
                          form_kwargs={"networks": vm_networks_of(vm.cluster), "os_type": vm.os_type})
    if request.method == "POST" and form.is_valid() and nics.is_valid():
        # An empty optional field keeps the VM's value (as an absent field of a PATCH does).
        changes = {name: value for name, value in form.cleaned_data.items() if value is not None}
        changes["nics"] = edit_nics_of(nics)
        try:
            vm, job = vm_edit(vm=vm, user=request.user, changes=changes)
        except ValidationError as error:
            _form_errors(form, error)
        except PortalError as error:
            form.add_error(None, error.detail)
        else:
            messages.success(request, _saved_message(vm, job))
            return redirect("vms:vm-detail", vm.pk)
    return render(request, "vms/vm_edit.html", {
        "vm": vm, "form": form, "nics": nics, "editable": vm.status in EDITABLE_DOWN + EDITABLE_RUNNING,
        "running": vm.status in EDITABLE_RUNNING, "running_body": _running_note(vm),
    })


def _running_note(vm) -> str:
    return (f"Memory grows live up to {vm.max_memory_mb or vm.memory_mb} MiB and vCPUs change live by whole "
            f"sockets up to {vm.max_vcpus or vm.vcpus}. Name, description and guaranteed memory change at once; "
            "everything else is kept as pending and applied at its next start.")


def _saved_message(vm, job) -> str:
    parts = [f"VM {vm.name} saved."]
    if job is not None:
        parts.append("Memory and vCPUs are changing live (see the job).")
    if vm.next_run:
        parts.append(f"{len(vm.next_run)} change{'s' if len(vm.next_run) != 1 else ''} wait for its next start.")
    return " ".join(parts)
