"""The disks of an existing VM: removing one, as a job (issue 9).

Disk data moves only through libvirt on the data center's SPM host. A disk is
removed only while its VM is down: the VM is claimed into image_locked and the
disk locked in one transaction with the job (409 otherwise); the job deletes
the volume and the row, and the VM's next start defines it without the disk.
A failure unlocks both, with an event saying why.
"""

from __future__ import annotations

from django.db import transaction

import hypervisor
from core.errors import Conflict
from core.events import event_record
from core.jobs import JobRun, job_create
from core.models import Job, Severity
from vms.choices import DiskStatus, VmStatus
from vms.models import Vm, VmDisk
from vms.services.lifecycle import _spm
from vms.services.status import vm_claim, vm_set_status

# A disk is changed only with its VM down: libvirt would otherwise hold its volume open.
DISK_CHANGE_FROM = (VmStatus.DOWN,)


def disk_remove(*, disk: VmDisk, user) -> Job:
    """Detach ``disk`` from its (down) VM and delete its volume. 409 when the VM
    is not down or the disk is busy."""
    vm = disk.vm
    with transaction.atomic():
        vm_claim(vm=vm, to=VmStatus.IMAGE_LOCKED, allowed=DISK_CHANGE_FROM, action="remove a disk", user=user)
        if not VmDisk.objects.filter(pk=disk.pk, status=DiskStatus.OK).update(status=DiskStatus.LOCKED):
            # Raising rolls the VM's claim back with the transaction.
            raise Conflict(f"Disk {disk.index + 1} of VM {vm.name} is busy; try again when it is ok.")
        return job_create(title=f"Remove disk {disk.index + 1} of VM {vm.name}", task="vm.disk_remove",
                          steps=["Remove the volume"], target=vm, user=user, task_args=(disk.pk,))


def disk_remove_run(run: JobRun, disk_id: int) -> None:
    disk = VmDisk.objects.select_related("vm__data_center", "storage_domain").get(pk=disk_id)
    vm = disk.vm
    with run.step("Remove the volume"):
        if disk.path:
            hypervisor.delete_volume(_spm(vm).uri, disk.path)
        disk.delete()
    event_record(code="vm.disk_removed", message=f"Disk {disk.index + 1} of VM {vm.name} was removed.",
                 user=run.job.user, target=vm, job=run.job)
    vm_set_status(vm=vm, status=VmStatus.DOWN, expected=VmStatus.IMAGE_LOCKED, user=run.job.user, record=False)


def disk_failed(run: JobRun, message: str) -> None:
    """Unlock the disk (when its row is still there) and the VM, saying why."""
    (disk_id,) = run.job.args
    VmDisk.objects.filter(pk=disk_id, status=DiskStatus.LOCKED).update(status=DiskStatus.OK)
    vm = Vm.objects.filter(pk=run.job.target_id).first()
    if vm is None:
        return
    vm_set_status(vm=vm, status=VmStatus.DOWN, expected=VmStatus.IMAGE_LOCKED, user=run.job.user,
                  reason=f"A disk change failed: {message}")
    event_record(code="vm.disk_failed", severity=Severity.ERROR, target=vm, job=run.job,
                 message=f"A disk change of VM {vm.name} failed: {message}")
