"""A VM's status: changed only by compare-and-swap, each real change leaving
an Event and a live update for the admins and the VM's owner."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils import timezone

from core.errors import Conflict
from core.events import event_record
from core.models import Severity
from core.updates import publish
from vms.choices import VmStatus
from vms.models import Vm

_SEVERITY = {VmStatus.UNKNOWN: Severity.WARNING, VmStatus.NOT_RESPONDING: Severity.WARNING}


def vm_publish(vm: Vm) -> None:
    publish(
        {"type": "vm", "id": vm.pk, "status": vm.status, "host": vm.host_id, "reason": vm.status_reason},
        user_ids=[vm.owner_id],
    )


def vm_set_status(
    *, vm: Vm, status: str, expected: Iterable[str] | str | None = None, reason: str = "", user=None,
    host_id: int | None | type = ..., record: bool = True,
) -> bool:
    """Move ``vm`` to ``status`` when its status is still one of ``expected``
    (default: what ``vm`` holds). Returns whether it moved; ``vm`` is updated."""
    if expected is None:
        allowed = (vm.status,)
    elif isinstance(expected, str):
        allowed = (expected,)
    else:
        allowed = tuple(expected)
    fields = {"status": status, "status_reason": reason, "status_changed_at": timezone.now()}
    if host_id is not ...:
        fields["host_id"] = host_id
    moved = Vm.objects.filter(pk=vm.pk, status__in=allowed).update(**fields)
    if not moved:
        return False
    old = vm.status
    for name, value in fields.items():
        setattr(vm, name, value)
    if record and old != status:
        message = f"VM {vm.name} is {VmStatus.label(status).lower()}" + (f": {reason}" if reason else ".")
        event_record(code=f"vm.{status}", message=message, severity=_SEVERITY.get(status, Severity.NORMAL),
                     user=user, target=vm)
    vm_publish(vm)
    return True


def vm_claim(*, vm: Vm, to: str, allowed: Iterable[str], action: str, user=None) -> None:
    """The first step of an action: CAS into ``to`` or 409 naming the status."""
    allowed = tuple(allowed)
    if not vm_set_status(vm=vm, status=to, expected=allowed, user=user, record=False):
        vm.refresh_from_db(fields=["status"])
        needed = " or ".join(VmStatus.label(s).lower() for s in allowed)
        raise Conflict(f"VM {vm.name} is {VmStatus.label(vm.status).lower()}; it can {action} only when {needed}.")
