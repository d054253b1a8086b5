"""The Edit page of a VM: its own settings, through the same service as
``PATCH /api/v1/vms/<id>/`` (vms.services.edit.vm_edit)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render

from core.errors import PermissionDenied, PortalError
from vms.choices import VmStatus
from vms.forms import EditForm
from vms.permissions import vm_require
from vms.services.edit import EDITABLE_FIELDS, vm_edit
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
    form = EditForm(request.POST or None, initial={name: getattr(vm, name) for name in EDITABLE_FIELDS})
    if request.method == "POST" and form.is_valid():
        # An empty optional field keeps the VM's value (as an absent field of a PATCH does).
        changes = {name: value for name, value in form.cleaned_data.items() if value is not None}
        try:
            vm_edit(vm=vm, user=request.user, changes=changes)
        except ValidationError as error:
            _form_errors(form, error)
        except PortalError as error:
            form.add_error(None, error.detail)
        else:
            messages.success(request, f"VM {vm.name} saved.")
            return redirect("vms:vm-detail", vm.pk)
    return render(request, "vms/vm_edit.html", {"vm": vm, "form": form, "editable": vm.status == VmStatus.DOWN})
