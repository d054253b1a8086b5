"""The disks of an existing VM (issue 9): add, grow, move to another storage
domain, detach (the disk floats, kept for another VM), attach a floating one,
remove.

Disk data moves only through libvirt on the data center's SPM host. A disk is
changed only while its VM is down: the VM is claimed into image_locked and the
disk locked in one transaction with the job (409 otherwise); the VM's next
start defines it with its disks as they are then. A failure unlocks both,
with an event saying why. Detach and attach change no volume: they are
immediate, under the same claim.
"""

from __future__ import annotations

import uuid

from django.core.exceptions import ValidationError
from django.db import transaction

import hypervisor
from core.errors import Conflict, InvalidInput
from core.events import event_record
from core.jobs import JobRun, job_create
from core.models import Job, Severity
from hypervisor import HypervisorError
from inventory.models import StorageDomain
from inventory.services.hosts import host_call
from inventory.services.spm import spm_required
from inventory.services.storage import storage_pool_name
from vms.choices import DiskAllocation, DiskFormat, DiskInterface, DiskStatus, Provisioning, VmStatus
from vms.models import Vm, VmDisk
from vms.services.lifecycle import _disk_create, _spm
from vms.services.requests import (
    DEVICES_MAX,
    DiskRequest,
    Errors,
    VmRequest,
    _clean_disks,
    storage_domain_problem,
)
from vms.services.status import vm_claim, vm_set_status

GIB = 1024**3
MIB = 1024**2
# A disk is changed only with its VM down: libvirt would otherwise hold its volume open.
DISK_CHANGE_FROM = (VmStatus.DOWN,)
# Adding is the exception: a virtio disk is plugged into a running VM (hypervisor.HOTPLUG_BUSES).
DISK_ADD_FROM = (VmStatus.DOWN, VmStatus.UP)
# What a moved disk's target must keep free beyond the copy (as snapshots and templates keep).
MOVE_MARGIN_BYTES = 256 * MIB


def _disk_job(*, disk: VmDisk, user, action: str, title: str, task: str, step: str, task_args: tuple) -> Job:
    """Claim the VM (image_locked) and lock the disk with the job, in one
    transaction: 409 when the VM is not down or the disk is busy."""
    vm = disk.vm
    with transaction.atomic():
        vm_claim(vm=vm, to=VmStatus.IMAGE_LOCKED, allowed=DISK_CHANGE_FROM, action=action, user=user)
        if not VmDisk.objects.filter(pk=disk.pk, status=DiskStatus.OK).update(status=DiskStatus.LOCKED):
            # Raising rolls the VM's claim back with the transaction.
            raise Conflict(f"Disk {disk.index + 1} of VM {vm.name} is busy; try again when it is ok.")
        return job_create(title=f"{title} disk {disk.index + 1} of VM {vm.name}", task=task, steps=[step],
                          target=vm, user=user, task_args=(disk.pk, *task_args))


def _disk_of(disk_id: int) -> VmDisk:
    return VmDisk.objects.select_related("vm__data_center", "storage_domain", "image__storage_domain").get(
        pk=disk_id)


def _volume_name(fmt: str) -> str:
    """A new volume's own name, not derived from a VM's: a disk may change VM
    (detach, attach) and domain (move) in its life."""
    return f"disk-{uuid.uuid4()}.{'img' if fmt == DiskFormat.RAW else 'qcow2'}"


def _disk_job_done(run: JobRun, disk: VmDisk, *, code: str, message: str) -> None:
    """Say what was done and hand the VM back (down)."""
    vm = disk.vm
    event_record(code=code, message=message, user=run.job.user, target=vm, job=run.job)
    vm_set_status(vm=vm, status=VmStatus.DOWN, expected=VmStatus.IMAGE_LOCKED, user=run.job.user, record=False)


def disk_grow(*, disk: VmDisk, user, size_gb: int) -> Job:
    """Grow ``disk`` of its (down) VM to ``size_gb``: 400 for a shrink or the
    same size (a disk never shrinks: the guest's data would be cut)."""
    if size_gb <= disk.size_gb:
        raise InvalidInput(f"Disk {disk.index + 1} of VM {disk.vm.name} has {disk.size_gb} GiB; it can only grow, "
                           f"to more than that.")
    return _disk_job(disk=disk, user=user, action="grow a disk", title="Grow", task="vm.disk_grow",
                     step="Grow the volume", task_args=(size_gb,))


def disk_grow_run(run: JobRun, disk_id: int, size_gb: int) -> None:
    disk = VmDisk.objects.select_related("vm__data_center").get(pk=disk_id)
    with run.step("Grow the volume"):
        hypervisor.resize_volume(_spm(disk.vm).uri, disk.path, capacity_bytes=size_gb * GIB)
        VmDisk.objects.filter(pk=disk.pk).update(size_gb=size_gb, status=DiskStatus.OK)
    _disk_job_done(run, disk, code="vm.disk_grown",
                   message=f"Disk {disk.index + 1} of VM {disk.vm.name} grew to {size_gb} GiB.")


def disk_remove(*, disk: VmDisk, user) -> Job:
    """Detach ``disk`` from its (down) VM and delete its volume. 409 when the VM
    is not down or the disk is busy. A floating disk is removed on its own."""
    if disk.vm_id is None:
        return _floating_remove(disk, user)
    return _disk_job(disk=disk, user=user, action="remove a disk", title="Remove", task="vm.disk_remove",
                     step="Remove the volume", task_args=())


def disk_remove_run(run: JobRun, disk_id: int) -> None:
    disk = VmDisk.objects.select_related("vm__data_center", "storage_domain").get(pk=disk_id)
    vm = disk.vm
    with run.step("Remove the volume"):
        if disk.path:
            hypervisor.delete_volume(_spm(vm).uri, disk.path)
        disk.delete()
    _disk_job_done(run, disk, code="vm.disk_removed", message=f"Disk {disk.index + 1} of VM {vm.name} was removed.")


def disk_failed(run: JobRun, message: str) -> None:
    """Unlock the disk (when its row is still there) and the VM, saying why."""
    disk_id = run.job.args[0]
    VmDisk.objects.filter(pk=disk_id, status=DiskStatus.LOCKED).update(status=DiskStatus.OK)
    vm = Vm.objects.filter(pk=run.job.target_id).first()
    if vm is None:
        return
    vm_set_status(vm=vm, status=VmStatus.DOWN, expected=VmStatus.IMAGE_LOCKED, user=run.job.user,
                  reason=f"A disk change failed: {message}")
    event_record(code="vm.disk_failed", severity=Severity.ERROR, target=vm, job=run.job,
                 message=f"A disk change of VM {vm.name} failed: {message}")


# ---- add ----------------------------------------------------------------------

def disk_add(*, vm: Vm, user, request: DiskRequest) -> Job:
    """A new empty disk (or a copy of an uploaded image) for ``vm``: checked as
    the wizard's disks are (vms.services.requests), plus the VM's own limits
    (number of disks, one bootable, virtio only for an OS that has its
    drivers). 400 naming the field. A down VM is image_locked meanwhile and
    gets the disk at its next start; a running one has a virtio disk plugged
    in live (LIVE and CONFIG) and keeps running; any other status, or a bus
    that cannot be hot-plugged on a running VM, is 409."""
    wizard = Errors()
    cleaned = _clean_disks(VmRequest(name=vm.name, cluster=vm.cluster, os_type=vm.os_type, disks=(request,)),
                           wizard)
    errors = Errors()
    for message in wizard.by_field.get("disks", []):  # the wizard's words, without its "Disk 1: "
        message = message.removeprefix("Disk 1: ")
        errors.add("disk", message[:1].upper() + message[1:])
    errors.raise_any()
    disk = cleaned[0]
    existing = list(vm.disks.all())
    if len(existing) >= DEVICES_MAX:
        errors.add("disks", f"VM {vm.name} has {len(existing)} disks; a VM has at most {DEVICES_MAX}.")
    if request.bootable and any(d.bootable for d in existing):
        errors.add("bootable", f"VM {vm.name} already boots from another disk; only one disk can be bootable.")
    if disk.interface == DiskInterface.VIRTIO and not vm.os_type.virtio:
        errors.add("interface", f"{vm.os_type.name} has no virtio drivers: choose {DiskInterface.SATA} "
                                f"or {DiskInterface.IDE}, or leave it to the OS type's bus.")
    live = vm.status == VmStatus.UP
    bus = disk.interface or vm.os_type.disk_bus
    if live and bus not in hypervisor.HOTPLUG_BUSES:
        raise Conflict(f"VM {vm.name} is running and its new disk would be on the {bus} bus, which cannot be "
                       f"plugged in live; choose the virtio interface, or shut the VM down first.")
    errors.raise_any()
    with transaction.atomic():
        if not live:
            vm_claim(vm=vm, to=VmStatus.IMAGE_LOCKED, allowed=DISK_CHANGE_FROM, action="add a disk", user=user)
        index = max((d.index for d in existing), default=-1) + 1
        volume = _volume_name(disk.format)
        row = VmDisk.objects.create(
            vm=vm, index=index, size_gb=disk.size_gb, format=disk.format, allocation=disk.allocation,
            interface=disk.interface, bootable=request.bootable or not existing, storage_domain=disk.storage_domain,
            image=disk.image, volume_name=volume, path=f"{disk.storage_domain.path.rstrip('/')}/{volume}",
            status=DiskStatus.LOCKED,
        )
        steps = ["Create the volume", *(["Plug it into the running VM"] if live else [])]
        return job_create(title=f"Add disk {index + 1} to VM {vm.name}", task="vm.disk_add",
                          steps=steps, target=vm, user=user, task_args=(row.pk, live))


def disk_add_run(run: JobRun, disk_id: int, live: bool = False) -> None:
    disk = _disk_of(disk_id)
    vm = disk.vm
    with run.step("Create the volume"):
        _disk_create(disk)
    what = f"from image {disk.image.name}" if disk.image else "empty"
    message = f"Disk {disk.index + 1} ({disk.size_gb} GiB, {what}) was added to VM {vm.name}"
    if not live:
        _disk_job_done(run, disk, code="vm.disk_added", message=f"{message}.")
        return
    with run.step("Plug it into the running VM"):
        vm = Vm.objects.select_related("host", "os_type").get(pk=vm.pk)
        if vm.status != VmStatus.UP or vm.host is None:
            raise Conflict(f"VM {vm.name} is no longer running; the new disk was not plugged in.")
        spec = hypervisor.DiskSpec(disk.path, format=disk.format, bus=disk.interface or vm.os_type.disk_bus)
        target = hypervisor.attach_disk_live(vm.host.uri, str(vm.uuid), spec)
    event_record(code="vm.disk_added", user=run.job.user, target=vm, job=run.job,
                 message=f"{message} while it runs, as {target}.")


def disk_add_failed(run: JobRun, message: str) -> None:
    """A disk that could not be made is not kept: its volume (if any part of
    it was written) and its row go, then the VM is unlocked as for any change."""
    disk = VmDisk.objects.select_related("vm__data_center").filter(pk=run.job.args[0]).first()
    if disk is not None:
        try:
            hypervisor.delete_volume(_spm(disk.vm).uri, disk.path)
        except Exception:  # noqa: BLE001 - the first failure is what the user must see
            pass
        disk.delete()
    disk_failed(run, message)


# ---- move ---------------------------------------------------------------------

def disk_move(*, disk: VmDisk, user, storage_domain: StorageDomain) -> Job:
    """Copy ``disk`` to ``storage_domain`` (same data center, a data domain,
    active, with room for it) and switch the VM to the copy: 400 for a bad
    target, 409 when the target is too full (said before anything is written),
    the VM is not down, or it has snapshots (a copy would drop them)."""
    vm = disk.vm
    if storage_domain.pk == disk.storage_domain_id:
        raise ValidationError({"storage_domain": f"Disk {disk.index + 1} of VM {vm.name} is already on "
                                                 f"storage domain {storage_domain.name}."})
    problem = storage_domain_problem(storage_domain, vm.data_center)
    if problem:
        raise ValidationError({"storage_domain": problem[0].upper() + problem[1:]})
    if vm.snapshots.exists():
        raise Conflict(f"VM {vm.name} has snapshots, kept inside its disks; a moved copy would lose them. "
                       "Delete the snapshots first.")
    needed = _copy_bytes(disk) + MOVE_MARGIN_BYTES
    free = storage_domain.available_bytes
    if free is not None and free < needed:
        raise Conflict(f"Storage domain {storage_domain.name} has {free // MIB} MiB free; disk {disk.index + 1} "
                       f"of VM {vm.name} needs {needed // MIB} MiB there (its data and a margin of "
                       f"{MOVE_MARGIN_BYTES // MIB} MiB). Nothing was written: free space there or choose "
                       "another storage domain.")
    return _disk_job(disk=disk, user=user, action="move a disk", title="Move", task="vm.disk_move",
                     step=_copy_step(storage_domain), task_args=(storage_domain.pk,))


def _copy_step(domain: StorageDomain) -> str:
    return f"Copy to {domain.name}"


def _copy_bytes(disk: VmDisk) -> int:
    """What the copy will hold: a raw disk its whole size, a thin one what its
    chain holds now (the copy is flattened), at most its size. The whole size
    when the SPM host cannot say."""
    size = disk.size_gb * GIB
    if disk.allocation == DiskAllocation.PREALLOCATED or not disk.path:
        return size
    try:
        chain = host_call(_spm(disk.vm), hypervisor.volume_chain, disk.path)
    except (HypervisorError, Conflict):
        return size
    return min(size, sum(volume.allocation_bytes for volume in chain))


def disk_move_run(run: JobRun, disk_id: int, domain_id: int) -> None:
    disk = _disk_of(disk_id)
    target = StorageDomain.objects.get(pk=domain_id)
    spm = _spm(disk.vm)
    source, step = disk.storage_domain, _copy_step(target)
    name = _volume_name(disk.format)
    with run.step(step):
        copy = hypervisor.copy_volume(spm.uri, storage_pool_name(target), name, source_path=disk.path,
                                      format=disk.format, progress=run.step_reporter(step))
    with run.step("Switch to the copy"):
        try:
            # The copy is flattened: a thin disk no longer needs its template's
            # disk, which may then be deleted (unless other thin VMs use it).
            VmDisk.objects.filter(pk=disk.pk).update(storage_domain=target, volume_name=name, path=copy.path,
                                                     status=DiskStatus.OK, template_disk=None)
        except Exception:
            hypervisor.delete_volume(spm.uri, copy.path)  # the disk stays where it was
            raise
    try:
        hypervisor.delete_volume(spm.uri, disk.path)
    except HypervisorError as error:
        run.event(code="vm.disk_move_leftover", severity=Severity.WARNING,
                  message=f"Disk {disk.index + 1} of VM {disk.vm.name} moved, but its old volume {disk.path} "
                          f"could not be deleted: {error.message} Delete it by hand.")
    _disk_job_done(run, disk, code="vm.disk_moved",
                   message=f"Disk {disk.index + 1} of VM {disk.vm.name} moved from storage domain {source.name} "
                           f"to {target.name}.")


# ---- detach and attach --------------------------------------------------------

@transaction.atomic
def disk_detach(*, disk: VmDisk, user) -> VmDisk:
    """``disk`` leaves its (down) VM and floats: kept with its volume, named
    after where it was, owned by the VM's owner, ready to be attached again.
    409 when the VM is not down, the disk is busy or the VM has snapshots."""
    vm = disk.vm
    if vm.snapshots.exists():
        raise Conflict(f"VM {vm.name} has snapshots that include this disk; delete them before detaching it.")
    if disk.template_disk_id is not None and vm.provisioning == Provisioning.THIN:
        # Floating, it would no longer keep its template from being deleted (from_template.thin_vms_using).
        raise Conflict(f"Disk {disk.index + 1} of VM {vm.name} is a thin overlay on a template's disk; move it to "
                       "another storage domain first (the copy stands alone), then detach it.")
    vm_claim(vm=vm, to=VmStatus.IMAGE_LOCKED, allowed=DISK_CHANGE_FROM, action="detach a disk", user=user)
    alias = f"{vm.name} disk {disk.index + 1}"
    if not VmDisk.objects.filter(pk=disk.pk, vm=vm, status=DiskStatus.OK).update(
            vm=None, alias=alias, owner=vm.owner, bootable=False):
        raise Conflict(f"Disk {disk.index + 1} of VM {vm.name} is busy; try again when it is ok.")
    vm_set_status(vm=vm, status=VmStatus.DOWN, expected=VmStatus.IMAGE_LOCKED, user=user, record=False)
    event_record(code="vm.disk_detached", user=user, target=vm,
                 message=f"Disk {disk.index + 1} of VM {vm.name} was detached; it floats as {alias!r}.")
    return VmDisk.objects.get(pk=disk.pk)


@transaction.atomic
def disk_attach(*, vm: Vm, disk: VmDisk, user) -> VmDisk:
    """Attach the floating ``disk`` to ``vm`` (down, same data center) as its
    last disk; it boots only when the VM has no other bootable disk."""
    if disk.vm_id is not None:
        raise Conflict(f"Disk {disk} is attached to VM {disk.vm.name}; detach it first.")
    if disk.storage_domain.data_center_id != vm.data_center_id:
        raise ValidationError({"disk": f"Disk {disk} is on storage domain {disk.storage_domain.name}, not in "
                                       f"VM {vm.name}'s data center {vm.data_center.name}."})
    existing = list(vm.disks.all())
    if len(existing) >= DEVICES_MAX:
        raise ValidationError({"disk": f"VM {vm.name} has {len(existing)} disks; a VM has at most {DEVICES_MAX}."})
    vm_claim(vm=vm, to=VmStatus.IMAGE_LOCKED, allowed=DISK_CHANGE_FROM, action="attach a disk", user=user)
    index = max((d.index for d in existing), default=-1) + 1
    bootable = not any(d.bootable for d in existing)
    if not VmDisk.objects.filter(pk=disk.pk, vm=None, status=DiskStatus.OK).update(
            vm=vm, index=index, bootable=bootable, alias="", owner=None):
        raise Conflict(f"Disk {disk} is busy or already attached; try again.")
    vm_set_status(vm=vm, status=VmStatus.DOWN, expected=VmStatus.IMAGE_LOCKED, user=user, record=False)
    event_record(code="vm.disk_attached", user=user, target=vm,
                 message=f"Floating disk {disk} was attached to VM {vm.name} as disk {index + 1}.")
    return VmDisk.objects.get(pk=disk.pk)


# ---- floating disks -----------------------------------------------------------

def _floating_remove(disk: VmDisk, user) -> Job:
    with transaction.atomic():
        if not VmDisk.objects.filter(pk=disk.pk, vm=None, status=DiskStatus.OK).update(status=DiskStatus.LOCKED):
            raise Conflict(f"Disk {disk} is busy or attached to a VM; try again.")
        return job_create(title=f"Remove floating disk {disk}", task="vm.floating_disk_remove",
                          steps=["Remove the volume"], target=disk, user=user, task_args=(disk.pk,))


def floating_disk_remove_run(run: JobRun, disk_id: int) -> None:
    disk = VmDisk.objects.select_related("storage_domain__data_center").get(pk=disk_id)
    with run.step("Remove the volume"):
        if disk.path:
            spm = spm_required(data_center=disk.storage_domain.data_center)
            hypervisor.delete_volume(spm.uri, disk.path)
        disk.delete()
    event_record(code="vm.disk_removed", message=f"Floating disk {disk} was removed.", user=run.job.user,
                 target=disk.storage_domain, job=run.job)


def floating_disk_failed(run: JobRun, message: str) -> None:
    disk = VmDisk.objects.select_related("storage_domain").filter(pk=run.job.args[0]).first()
    if disk is None:
        return
    VmDisk.objects.filter(pk=disk.pk, status=DiskStatus.LOCKED).update(status=DiskStatus.OK)
    event_record(code="vm.disk_failed", severity=Severity.ERROR, target=disk.storage_domain, job=run.job,
                 message=f"Removing floating disk {disk} failed: {message}")
