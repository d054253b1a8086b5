"""What storage domains and networks share: their attach and detach jobs
lock the object (compare-and-swap into locked), re-read it locked in the job,
and leave it inactive, saying why, when the job fails."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Model

from core.errors import Conflict
from core.jobs import JobRun
from inventory.choices import AttachmentStatus


@dataclass(frozen=True)
class Attachable:
    model: type[Model]
    noun: str  # "Storage domain", "Network": starts the messages
    # (obj, *, status, expected, reason, user, job) -> whether it moved
    set_status: Callable[..., bool]


def attachment_lock(kind: Attachable, obj, *, allowed: tuple[str, ...], user, why: str, refusal: str) -> str:
    """Lock ``obj`` when its status is one of ``allowed``; returns the status it
    had. Conflict saying why not otherwise."""
    current = kind.model.objects.filter(pk=obj.pk).values_list("status", flat=True).first()
    if current is None:
        raise Conflict(f"{kind.noun} {obj.name} no longer exists.")
    reason = f"{why}, by {user}" if user else why
    if current not in allowed or not kind.set_status(
        obj, status=AttachmentStatus.LOCKED, expected=current, reason=reason, user=user
    ):
        status = kind.model.objects.filter(pk=obj.pk).values_list("status", flat=True).first() or current
        busy = " (another job is working on it)" if status == AttachmentStatus.LOCKED else ""
        raise Conflict(f"{kind.noun} {obj.name} is {AttachmentStatus.label(status).lower()}{busy}; {refusal}.")
    return current


def attachment_locked(kind: Attachable, run: JobRun):
    """The job's object, re-read; it must still be locked (by this job)."""
    obj = kind.model.objects.select_related("data_center").get(pk=run.job.target_id)
    if obj.status != AttachmentStatus.LOCKED:
        raise Conflict(
            f"{kind.noun} {obj.name} is {AttachmentStatus.label(obj.status).lower()}, "
            "not locked for this job; nothing was done."
        )
    return obj


def attachment_unlock_after_failure(kind: Attachable, run: JobRun, message: str) -> None:
    obj = kind.model.objects.filter(pk=run.job.target_id).first()
    if obj is None:
        return  # removed meanwhile: nothing left to unlock
    kind.set_status(
        obj, status=AttachmentStatus.INACTIVE, expected=AttachmentStatus.LOCKED,
        reason=f"{run.job.title} failed: {message}", user=run.job.user, job=run.job,
    )
