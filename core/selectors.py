"""Permission-scoped reads of jobs and events."""

from django.db.models import QuerySet

from core.models import Event, Job
from core.permissions import is_system_admin


def _own_or_all(queryset: QuerySet, user) -> QuerySet:
    if not user or not user.is_authenticated:
        return queryset.none()
    return queryset if is_system_admin(user) else queryset.filter(user=user)


def jobs_visible_to(user) -> QuerySet[Job]:
    return _own_or_all(Job.objects.select_related("target_type", "user"), user)


def events_visible_to(user) -> QuerySet[Event]:
    return _own_or_all(Event.objects.select_related("target_type", "user"), user)
