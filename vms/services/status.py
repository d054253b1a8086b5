"""A VM's status: changed only by compare-and-swap (core.status), each real
change leaving an Event and a live update for the admins and the users who
may see the VM (``vm_audience``)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from core.errors import Conflict
from core.models import Severity
from core.status import StatusKind, status_change
from vms.choices import VmStatus
from vms.models import Vm
from vms.permissions import vm_user_ids_allowed

VM_STATUS = StatusKind(
    type="vm", noun="VM", choices=VmStatus,
    severities={VmStatus.UNKNOWN: Severity.WARNING, VmStatus.NOT_RESPONDING: Severity.WARNING},
    # The host it runs on (or null): the VM list's host cell follows it.
    extra_payload=lambda vm: {"host": vm.host_id},
)


def vm_audience(vm: Vm) -> Iterator[int]:
    """Who, besides the admins, is told live when the VM's status changes: its
    owner and everyone granted view on it. A generator, so nothing is read
    unless the status did change."""
    yield from vm_user_ids_allowed("view", vm)


def vm_set_status(
    *, vm: Vm, status: str, expected: Iterable[str] | str | None = None, reason: str = "", user=None,
    host_id: int | None | type = ..., record: bool = True,
) -> bool:
    """Move ``vm`` to ``status`` (and to ``host_id`` when given) when its status
    is still one of ``expected`` (default: what ``vm`` holds). Returns whether
    it moved; ``vm`` is updated."""
    return status_change(
        vm, kind=VM_STATUS, to=status, expected=expected, reason=reason, user=user, record=record,
        extra_fields={} if host_id is ... else {"host_id": host_id}, audience=vm_audience(vm),
    )


def vm_claim(*, vm: Vm, to: str, allowed: Iterable[str], action: str, user=None) -> None:
    """The first step of an action: CAS into ``to`` or 409 naming the status."""
    allowed = tuple(allowed)
    if not vm_set_status(vm=vm, status=to, expected=allowed, user=user, record=False):
        vm.refresh_from_db(fields=["status"])
        needed = " or ".join(VmStatus.label(s).lower() for s in allowed)
        raise Conflict(f"VM {vm.name} is {VmStatus.label(vm.status).lower()}; it can {action} only when {needed}.")
