"""Create, edit and remove any plain model row (data centers, clusters,
instance types ...), and the common last step of the richer services (hosts,
storage domains, networks); each change leaves an Event naming who did what."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Model, ProtectedError

from core.errors import Conflict
from core.events import event_record


def _kind(obj: Model) -> str:
    return obj._meta.verbose_name


def _code(obj: Model, action: str) -> str:
    return f"{obj._meta.model_name}.{action}"


def object_create(*, model: type[Model], fields: dict, user) -> Model:
    with transaction.atomic():
        obj = model.objects.create(**fields)
        event_record(code=_code(obj, "created"), target=obj, user=user,
                     message=f"{_kind(obj).capitalize()} {obj} was created by {user}.")
    return obj


def object_update(*, obj: Model, fields: dict, user) -> Model:
    changed = sorted(name for name, value in fields.items() if getattr(obj, name) != value)
    if not changed:
        return obj
    with transaction.atomic():
        for name in changed:
            setattr(obj, name, fields[name])
        obj.save(update_fields=changed)
        event_record(code=_code(obj, "updated"), target=obj, user=user,
                     message=f"{_kind(obj).capitalize()} {obj} was changed by {user}: {', '.join(changed)}.")
    return obj


def object_remove(*, obj: Model, user) -> None:
    name, kind, code = str(obj), _kind(obj), _code(obj, "removed")
    try:
        with transaction.atomic():
            obj.delete()
    except ProtectedError as error:
        blockers = sorted({_kind(o) for o in error.protected_objects})
        raise Conflict(f"{kind.capitalize()} {name} still has {' and '.join(b + 's' for b in blockers)}; remove them first.")
    event_record(code=code, user=user, message=f"{kind.capitalize()} {name} was removed by {user}.")
