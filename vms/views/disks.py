"""The VM page's disks table and its actions: add, grow, move, detach,
remove, and attach a floating disk.

Which buttons show is decided here, from the statuses the service accepts
(vms/services/disks.py's own constants) and vms.permissions' rule, never in the
template. Each action is a POST calling the same service as the API, answered
with a redirect to the VM page, where the job's bar moves by itself; a
refusal becomes a message there."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from core.errors import InvalidInput, PortalError
from inventory.choices import StorageDomainStatus
from inventory.models import StorageDomain
from vms import selectors
from vms.choices import DiskStatus
from vms.forms import DiskForm, data_domains_of, disk_images_of
from vms.models import Vm, VmDisk
from vms.permissions import floating_disks_visible_to, vm_may
from vms.services.disk_facts import DISK_FACTS_RELATED, DiskFacts, disk_facts
from vms.services.disks import (
    DISK_ADD_FROM,
    DISK_CHANGE_FROM,
    disk_add,
    disk_attach,
    disk_detach,
    disk_grow,
    disk_move,
    disk_remove,
)
from vms.services.requests import DiskRequest
from vms.views.jobs import refused, started, vm_change_answer, vm_job_answer


@dataclass(frozen=True)
class DiskRow:
    disk: VmDisk
    facts: DiskFacts
    may_change: bool  # grow, move, detach or remove
    move_targets: tuple[StorageDomain, ...] = ()


@dataclass(frozen=True)
class DiskTools:
    """What the disks card offers besides each row's buttons."""

    may_add: bool
    add_form: DiskForm | None
    floating: tuple[VmDisk, ...]  # floating disks this user may attach here


def disk_rows(request, vm: Vm) -> list[DiskRow]:
    """The VM's disks with what their volumes hold and the buttons this user gets for each."""
    may = _may_change(request, vm)
    disks = list(vm.disks.select_related("image", *DISK_FACTS_RELATED))
    facts = disk_facts(disks)
    targets = tuple(data_domains_of(vm.cluster).filter(status=StorageDomainStatus.ACTIVE)) if may else ()
    return [DiskRow(disk, facts[disk.pk], may_change=may and disk.status == DiskStatus.OK,
                    move_targets=tuple(d for d in targets if d.pk != disk.storage_domain_id))
            for disk in disks]


def disk_tools(request, vm: Vm) -> DiskTools:
    if vm.status not in DISK_ADD_FROM or not vm_may(request.user, "disks", vm):
        return DiskTools(may_add=False, add_form=None, floating=())
    floating = ()
    if vm.status in DISK_CHANGE_FROM:  # attaching is for a down VM only
        floating = tuple(floating_disks_visible_to(request.user).filter(
            storage_domain__data_center_id=vm.data_center_id, status=DiskStatus.OK))
    return DiskTools(may_add=True, add_form=_add_form(vm), floating=floating)


def _may_change(request, vm: Vm) -> bool:
    return vm.status in DISK_CHANGE_FROM and vm_may(request.user, "disks", vm)


def _add_form(vm: Vm, data=None) -> DiskForm:
    domains = data_domains_of(vm.cluster)
    first = domains.filter(status=StorageDomainStatus.ACTIVE).first()
    return DiskForm(data, prefix="add", domains=domains, images=disk_images_of(vm.cluster),
                    initial={"size_gb": 1, "storage_domain": first.pk if first else None})


def _size_gb(request) -> int:
    try:
        return int(request.POST.get("size_gb", ""))
    except ValueError:
        raise InvalidInput("Give the new size in whole GiB.") from None


def _storage_domain(request) -> StorageDomain:
    value = request.POST.get("storage_domain", "")
    domain = StorageDomain.objects.filter(pk=value).first() if value.isdigit() else None
    if domain is None:
        raise ValidationError("Choose the storage domain to move the disk to.")
    return domain


# action -> the service, called with the disk, the user and what the POST brings
DISK_JOBS = {
    "grow": lambda request, disk: disk_grow(disk=disk, user=request.user, size_gb=_size_gb(request)),
    "move": lambda request, disk: disk_move(disk=disk, user=request.user, storage_domain=_storage_domain(request)),
    "remove": lambda request, disk: disk_remove(disk=disk, user=request.user),
}


def _detach(request, disk: VmDisk) -> str:
    floating = disk_detach(disk=disk, user=request.user)
    return f"Disk {disk.index + 1} was detached; it floats as {floating.alias!r} until it is attached or removed."


@login_required
@require_POST
def vm_disk_action(request, pk: int, disk_pk: int, action: str):
    if action not in DISK_JOBS and action != "detach":
        raise Http404
    vm = get_object_or_404(selectors.vms_visible_to(request.user), pk=pk)
    disk = get_object_or_404(VmDisk.objects.select_related("vm", "storage_domain"), pk=disk_pk, vm=vm)
    if action == "detach":
        return vm_change_answer(request, vm, "disks", lambda: _detach(request, disk))
    return vm_job_answer(request, vm, "disks", lambda: DISK_JOBS[action](request, disk))


@login_required
@require_POST
def vm_disk_add(request, pk: int):
    vm = get_object_or_404(selectors.vms_visible_to(request.user), pk=pk)

    def start():
        form = _add_form(vm, request.POST)
        if not form.is_valid():
            raise ValidationError([f"{form.fields[name].label}: {message}" if name in form.fields else message
                                   for name, messages in form.errors.items() for message in messages])
        data = form.cleaned_data
        return disk_add(vm=vm, user=request.user, request=DiskRequest(
            storage_domain=data["storage_domain"], size_gb=data["size_gb"], format=form.format,
            allocation=data["allocation"], image=data["image"]))

    return vm_job_answer(request, vm, "disks", start)


@login_required
@require_POST
def vm_disk_attach(request, pk: int):
    vm = get_object_or_404(selectors.vms_visible_to(request.user), pk=pk)

    def attach() -> str:
        disk_id = request.POST.get("disk") or ""
        disk = floating_disks_visible_to(request.user).filter(pk=disk_id).first() if disk_id.isdigit() else None
        if disk is None:
            raise ValidationError("Choose a floating disk to attach.")
        attached = disk_attach(vm=vm, disk=disk, user=request.user)
        return f"Floating disk {disk} was attached to VM {vm.name} as disk {attached.index + 1}."

    return vm_change_answer(request, vm, "disks", attach)


@login_required
@require_POST
def floating_disk_remove(request, disk_pk: int):
    """The storage domain page's remove button of a floating disk: a job, then back there."""
    disk = get_object_or_404(floating_disks_visible_to(request.user), pk=disk_pk)
    try:
        job = disk_remove(disk=disk, user=request.user)
    except PortalError as error:
        refused(request, error)
    else:
        started(request, job)
    return redirect("inventory:storagedomain-detail", disk.storage_domain_id)
