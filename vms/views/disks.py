"""The VM page's disks table and its actions (grow, remove).

Which buttons show is decided here, from the statuses the service accepts
(vms/services/disks.py's own constants) and vms.permissions' rule, never in the
template. Each action is a POST calling one service, answered with a redirect
to the VM page, where the job's bar moves by itself; a refusal becomes a
message there."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_POST

from core.errors import InvalidInput
from vms import selectors
from vms.choices import DiskStatus
from vms.models import Vm, VmDisk
from vms.permissions import vm_may
from vms.services.disks import DISK_CHANGE_FROM, disk_grow, disk_remove
from vms.views.jobs import vm_job_answer


@dataclass(frozen=True)
class DiskRow:
    disk: VmDisk
    may_change: bool  # grow or remove


def disk_rows(request, vm: Vm) -> list[DiskRow]:
    """The VM's disks with the buttons this user gets for each."""
    may = vm_may(request.user, "disks", vm) and vm.status in DISK_CHANGE_FROM
    return [DiskRow(disk, may_change=may and disk.status == DiskStatus.OK)
            for disk in vm.disks.select_related("storage_domain", "image")]


def _size_gb(request) -> int:
    try:
        return int(request.POST.get("size_gb", ""))
    except ValueError:
        raise InvalidInput("Give the new size in whole GiB.") from None


# action -> the service, called with the disk, the user and what the POST brings
DISK_ACTIONS = {
    "grow": lambda request, disk: disk_grow(disk=disk, user=request.user, size_gb=_size_gb(request)),
    "remove": lambda request, disk: disk_remove(disk=disk, user=request.user),
}


@login_required
@require_POST
def vm_disk_action(request, pk: int, disk_pk: int, action: str):
    if action not in DISK_ACTIONS:
        raise Http404
    vm = get_object_or_404(selectors.vms_visible_to(request.user), pk=pk)
    disk = get_object_or_404(VmDisk.objects.select_related("vm"), pk=disk_pk, vm=vm)
    return vm_job_answer(request, vm, "disks", lambda: DISK_ACTIONS[action](request, disk))
