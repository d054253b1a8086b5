"""Who may do what on which object. Grants are few per user, so they are read
once and matched in Python; querysets are then narrowed with one IN clause."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db.models import Model, Q, QuerySet

from core.errors import PermissionDenied
from core.models import Permission


def _grants(user, action: str) -> list[Permission]:
    if not user or not user.is_authenticated:
        return []
    rows = Permission.objects.filter(
        Q(user=user) | Q(group__in=user.groups.all())
    ).select_related("role")
    return [grant for grant in rows if grant.role.allows(action)]


def _is_system_wide(user, grants: list[Permission]) -> bool:
    return user.is_superuser or any(grant.object_type_id is None for grant in grants)


def restrict(queryset: QuerySet, user, action: str = "view") -> QuerySet:
    """The part of `queryset` on which `user` may perform `action`."""
    if not user or not user.is_authenticated:
        return queryset.none()
    grants = _grants(user, action)
    if _is_system_wide(user, grants):
        return queryset
    content_type = ContentType.objects.get_for_model(queryset.model)
    ids = [g.object_id for g in grants if g.object_type_id == content_type.id]
    return queryset.filter(pk__in=ids)


def has_permission(user, action: str, obj: Model | None = None) -> bool:
    if not user or not user.is_authenticated:
        return False
    grants = _grants(user, action)
    if _is_system_wide(user, grants):
        return True
    if obj is None:
        return False
    content_type = ContentType.objects.get_for_model(obj)
    return any(
        g.object_type_id == content_type.id and g.object_id == str(obj.pk) for g in grants
    )


def require_permission(user, action: str, obj: Model | None = None) -> None:
    if not has_permission(user, action, obj):
        raise PermissionDenied(f"You may not {action} this object.")


def is_system_admin(user) -> bool:
    """Sees everything, so receives every live update."""
    return has_permission(user, "*")
