"""Recording audit events: who did what to which object, and how it ended."""

from __future__ import annotations

import logging

from django.contrib.contenttypes.models import ContentType
from django.db.models import Model

from core.models import Event, Job, Severity

logger = logging.getLogger(__name__)


def event_record(
    *,
    code: str,
    message: str,
    severity: str = Severity.NORMAL,
    user=None,
    target: Model | None = None,
    job: Job | None = None,
) -> Event:
    event = Event.objects.create(
        code=code,
        message=message,
        severity=severity,
        user=user if user and user.is_authenticated else None,
        target_type=ContentType.objects.get_for_model(target) if target else None,
        target_id=str(target.pk) if target else "",
        target_name=str(target) if target else "",
        job=job,
    )
    logger.log(logging.WARNING if severity != Severity.NORMAL else logging.INFO,
               "event %s: %s", code, message)
    return event
