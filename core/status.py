"""One way to change an object's status (hosts, VMs, storage domains,
networks): a compare-and-swap UPDATE, then, for a real change, an Event and a
live update of one shape for every kind (API.md "Live updates"):

    {"type", "id", "status", "reason", "label", "colour"}

``label`` and ``colour`` come from the kind's ChoiceSet, so browsers draw the
new status without a list of statuses of their own; a kind may add keys of its
own (a VM adds ``host``, the id of the host it is on, or null).

core imports no app: each app declares its kinds (a ``StatusKind`` next to its
status service) and passes it in. The model needs a ``status`` field; when it
also has ``status_reason`` or ``status_changed_at``, they are kept as well."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from django.core.exceptions import FieldDoesNotExist
from django.db import transaction
from django.db.models import Model
from django.utils import timezone

from core.choices import ChoiceSet
from core.events import event_record
from core.models import Job, Severity
from core.permissions import user_ids_allowed
from core.updates import publish


@dataclass(frozen=True)
class StatusKind:
    """What the status helper knows about one kind of object."""

    type: str  # "vm": the live update's type and the prefix of the Events' codes
    noun: str  # "VM": starts the Events' messages
    choices: type[ChoiceSet]
    # The Event's severity per new status; any other status gets ``default_severity``.
    severities: Mapping[str, str] = field(default_factory=dict)
    default_severity: str = Severity.NORMAL
    # Keys the kind adds to its live updates, read from the changed object.
    extra_payload: Callable[[Model], dict] | None = None

    def severity(self, status: str) -> str:
        return self.severities.get(status, self.default_severity)

    def payload(self, obj: Model, reason: str) -> dict:
        status = obj.status
        return {
            "type": self.type, "id": obj.pk, "status": status, "reason": reason,
            "label": self.choices.label(status), "colour": self.choices.colour(status),
            **(self.extra_payload(obj) if self.extra_payload else {}),
        }


def status_change(
    obj: Model, *, kind: StatusKind, to: str, expected: Iterable[str] | str | None = None, reason: str = "",
    user=None, job: Job | None = None, record: bool = True, extra_fields: Mapping | None = None,
    audience: Iterable[int | None] | None = None,
) -> bool:
    """Move ``obj`` to status ``to`` (with ``extra_fields``, and ``reason`` when
    the model keeps one) if its status in the database is still one of
    ``expected`` (default: the status ``obj`` holds). Returns whether it moved;
    ``obj`` is updated when it did.

    A move that changes the status records an Event (unless ``record`` is
    false: a claim a job will follow up on); every move is published to the
    admins and to the users in ``audience`` (default: those granted view on
    ``obj``). ``audience`` is iterated only when the object moved, so a
    generator defers any query it needs."""
    allowed = (obj.status,) if expected is None else (expected,) if isinstance(expected, str) else tuple(expected)
    fields = {"status": to, **(extra_fields or {})}
    if _has_field(obj, "status_reason"):
        fields["status_reason"] = reason
    if allowed == (to,) and all(getattr(obj, name) == value for name, value in fields.items()):
        return False  # nothing would change: spare the write (the host monitor asks every few seconds)
    if _has_field(obj, "status_changed_at"):
        fields["status_changed_at"] = timezone.now()
    if not type(obj)._default_manager.filter(pk=obj.pk, status__in=allowed).update(**fields):
        return False
    # The status it had: what ``obj`` held if that was allowed, else the only allowed one (or unknown).
    was = obj.status if obj.status in allowed else allowed[0] if len(allowed) == 1 else None
    for name, value in fields.items():
        setattr(obj, name, value)
    if record and was != to:
        event_record(
            code=f"{kind.type}.{to}", message=status_message(kind, obj, was=was, reason=reason),
            severity=kind.severity(to), user=user, target=obj, job=job,
        )
    if audience is None:
        audience = user_ids_allowed("view", obj)
    payload, user_ids = kind.payload(obj, reason), list(audience)
    # Told once the change is committed: a claim rolled back (a start the
    # scheduler refused under the cluster's lock) must never show in a browser.
    transaction.on_commit(lambda: publish(payload, user_ids=user_ids))
    return True


def status_message(kind: StatusKind, obj: Model, *, was: str | None, reason: str) -> str:
    """The Event's words, e.g. "Host h1 is now non responsive (was up): Connection refused"."""
    before = f" (was {kind.choices.label(was).lower()})" if was is not None else ""
    because = f": {reason}" if reason else ""
    return f"{kind.noun} {obj} is now {kind.choices.label(obj.status).lower()}{before}{because}"


def _has_field(obj: Model, name: str) -> bool:
    try:
        obj._meta.get_field(name)
    except FieldDoesNotExist:
        return False
    return True
