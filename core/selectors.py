from django.db.models import QuerySet

from core.models import Event, Job
from core.permissions import is_system_admin


def jobs_visible_to(user) -> QuerySet[Job]:
    jobs = Job.objects.select_related("target_type", "user")
    return jobs if is_system_admin(user) else jobs.filter(user=user)


def events_visible_to(user) -> QuerySet[Event]:
    events = Event.objects.select_related("target_type", "user")
    return events if is_system_admin(user) else events.filter(user=user)
