"""Roles (named sets of actions) and grants of a role on an object, or system-wide."""

from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q

ANY_ACTION = "*"


class Role(models.Model):
    """A named set of actions (view, change, create, delete, console, ...);
    "*" grants every action."""

    name = models.CharField(max_length=64, unique=True)
    description = models.TextField(blank=True)
    actions = models.JSONField(default=list)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def allows(self, action: str) -> bool:
        return ANY_ACTION in self.actions or action in self.actions


class Permission(models.Model):
    """A role granted to a user or group on one object, or on the whole
    system when no object is named."""

    role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="grants")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
        related_name="portal_permissions",
    )
    group = models.ForeignKey(
        Group, null=True, blank=True, on_delete=models.CASCADE, related_name="portal_permissions"
    )
    object_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    object_id = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(user__isnull=False) & Q(group__isnull=True))
                | (Q(user__isnull=True) & Q(group__isnull=False)),
                name="permission_for_user_xor_group",
            ),
            models.CheckConstraint(
                condition=Q(object_type__isnull=True, object_id="")
                | Q(object_type__isnull=False) & ~Q(object_id=""),
                name="permission_object_type_and_id_together",
            ),
        ]

    def __str__(self) -> str:
        who = self.user or self.group
        where = f"{self.object_type} {self.object_id}" if self.object_type else "system"
        return f"{self.role} for {who} on {where}"
