"""Editing a VM's own settings (issue 9, "Editing a VM"), checked by the same
rules as its creation (vms.services.requests.vm_settings_check).

This first piece edits a VM that is down: the rows change at once. A running
VM's edits (live changes and the next-run configuration) are not done yet and
are refused with 409 rather than half-applied."""

from __future__ import annotations

from dataclasses import replace

from django.db import transaction

from core.errors import Conflict
from core.events import event_record
from vms.choices import VmStatus
from vms.models import Vm
from vms.services.requests import TOPOLOGY_FIELDS, Errors, VmRequest, vm_settings_check

# The settings an edit may change, as named on Vm and in VmRequest.
EDITABLE_FIELDS = (
    "name", "description", "memory_mb", "memory_guaranteed_mb", "cpu_sockets", "cpu_cores", "cpu_threads",
    "optimization", "console",
)


def vm_edit(*, vm: Vm, user, changes: dict) -> Vm:
    """Apply ``changes`` (a subset of EDITABLE_FIELDS) to a VM that is down;
    ValidationError per field (nothing changed) when a creation rule refuses,
    Conflict when the VM is not down."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        errors = Errors()
        for name in sorted(unknown):
            errors.add(name, "This setting cannot be edited.")
        errors.raise_any()
    with transaction.atomic():
        vm = Vm.objects.select_for_update().select_related("cluster__data_center", "os_type").get(pk=vm.pk)
        if vm.status != VmStatus.DOWN:
            raise Conflict(f"VM {vm.name} is {vm.get_status_display().lower()}; only a VM that is down can be "
                           "edited for now.")
        settings = {name: getattr(vm, name) for name in EDITABLE_FIELDS}
        settings.update(changes)
        errors = Errors()
        vm_settings_check(replace(VmRequest(cluster=vm.cluster, os_type=vm.os_type, name=""), **settings),
                          errors, editing=vm)
        errors.raise_any()
        changed = [name for name in EDITABLE_FIELDS if settings[name] != getattr(vm, name)]
        if not changed:
            return vm
        old_name = vm.name
        for name in changed:
            setattr(vm, name, settings[name])
        preset = vm.instance_type
        if preset is not None and any(getattr(vm, name) != getattr(preset, name) for name in TOPOLOGY_FIELDS):
            vm.instance_type = None  # its figures no longer describe the VM: "custom", as at creation
            changed.append("instance_type")
        vm.save(update_fields=changed)
        event_record(code="vm.edited", user=user, target=vm,
                     message=f"VM {old_name} edited by {user}: {', '.join(changed)}")
    return vm
