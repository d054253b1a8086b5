"""Loaded by the tests' Celery worker only (tests.support.processes.Worker includes it).

Transactional tests empty the database between tests and Django creates the
content types again under new ids; the test process clears its cache, but
the long-lived worker would keep the old ids and write events that point
nowhere. So it forgets them before every task."""

from celery.signals import task_prerun
from django.contrib.contenttypes.models import ContentType


@task_prerun.connect
def forget_content_types(**_kwargs) -> None:
    ContentType.objects.clear_cache()
