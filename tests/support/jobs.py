"""Running a job in the test process, from its row, the way the worker would.

The fast lane runs no worker and its transactions never commit, so nothing is
ever sent; a test runs the job itself: the task registered under the job's
kind, with the arguments the job's row keeps (Celery's eager `apply`)."""

from __future__ import annotations

import functools

from celery import current_app

from core.models import Job


@functools.cache
def _tasks():
    current_app.loader.import_default_modules()  # every app's tasks module, as the worker loads them
    return current_app.tasks


def run_job(job: Job) -> Job:
    """Claim, work and end `job` here (failure handlers included); its row afterwards."""
    _tasks()[job.kind].apply(args=[job.pk, *job.args])
    return Job.objects.get(pk=job.pk)
