"""How a VM page's job button answers: the VM action's permission, the
service, then back to the VM page with what happened. Shared by the VM's own
actions, its disks' and its snapshots'; the job's bar then moves by itself.
A change that needs no job (detaching a disk) answers the same way with the
service's own sentence."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect

from core.errors import PortalError
from core.models import Job
from vms.models import Vm
from vms.permissions import vm_require


def refused(request, error: PortalError | ValidationError) -> None:
    """A refusal as the message the VM page shows: the service's own words."""
    messages.error(request, error.detail if isinstance(error, PortalError) else " ".join(error.messages))


def started(request, job: Job) -> None:
    messages.info(request, f"{job.title}: job #{job.pk} started; its progress shows below and in the jobs tray.")


def vm_job_answer(request, vm: Vm, action: str, start: Callable[[], Job]):
    try:
        vm_require(request.user, action, vm)
        job = start()
    except (PortalError, ValidationError) as error:
        refused(request, error)
    else:
        started(request, job)
    return redirect("vms:vm-detail", vm.pk)


def vm_change_answer(request, vm: Vm, action: str, change: Callable[[], str]):
    """vm_job_answer for a change done at once: ``change`` says what it did."""
    try:
        vm_require(request.user, action, vm)
        done = change()
    except (PortalError, ValidationError) as error:
        refused(request, error)
    else:
        messages.success(request, done)
    return redirect("vms:vm-detail", vm.pk)
