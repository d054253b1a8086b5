"""The disks of an existing VM: growing and removing one, each as a job (issue 9).

Disk data moves only through libvirt on the data center's SPM host. A disk is
removed only while its VM is down: the VM is claimed into image_locked and the
disk locked in one transaction with the job (409 otherwise); the job deletes
the volume and the row, and the VM's next start defines it without the disk.
A failure unlocks both, with an event saying why.
"""

from __future__ import annotations

from django.db import transaction

import hypervisor
from core.errors import Conflict, InvalidInput
from core.events import event_record
from core.jobs import JobRun, job_create
from core.models import Job, Severity
from vms.choices import DiskStatus, VmStatus
from vms.models import Vm, VmDisk
from vms.services.lifecycle import _spm
from vms.services.status import vm_claim, vm_set_status

GIB = 1024**3
# A disk is changed only with its VM down: libvirt would otherwise hold its volume open.
DISK_CHANGE_FROM = (VmStatus.DOWN,)


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
    is not down or the disk is busy."""
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
