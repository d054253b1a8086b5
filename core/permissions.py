"""Who may do what on which object. Grants are few per user, so they are read
once and matched in Python; querysets are then narrowed with one IN clause."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db.models import Model, Q, QuerySet

from core.errors import PermissionDenied
from core.models import Permission
from core.models.permissions import ANY_ACTION


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


def user_ids_allowed(action: str, obj: Model) -> set[int]:
    """The ids of the users who may ``action`` ``obj`` through a grant: on the
    object itself or system-wide, to the user or to one of their groups.

    This is whom a live update about ``obj`` goes to (core.updates.publish's
    ``user_ids``). System admins (superusers, holders of a system-wide "*"
    role) are left out: they listen on the admins' group, which every update
    reaches anyway. An owner's rights are their app's rule, not a grant:
    vms.permissions adds a VM's owner."""
    content_type = ContentType.objects.get_for_model(obj)
    grants = [
        grant for grant in Permission.objects.filter(
            Q(object_type=content_type, object_id=str(obj.pk)) | Q(object_type__isnull=True)
        ).select_related("role")
        if grant.role.allows(action)
    ]
    if not grants:
        return set()
    User = get_user_model()
    holders = User.objects.filter(
        Q(pk__in=[g.user_id for g in grants if g.user_id]) | Q(groups__in=[g.group_id for g in grants if g.group_id])
    )
    # As is_system_admin decides: a system-wide grant of every action.
    admin_grants = [g for g in grants if g.object_type_id is None and g.role.allows(ANY_ACTION)]
    admins = User.objects.filter(
        Q(is_superuser=True) | Q(pk__in=[g.user_id for g in admin_grants if g.user_id])
        | Q(groups__in=[g.group_id for g in admin_grants if g.group_id])
    )
    return set(holders.exclude(pk__in=admins.values("pk")).values_list("pk", flat=True))
