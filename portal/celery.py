"""The Celery app and its periodic tasks (host checks, storage refresh, VM reconcile, evacuations, balancing)."""

import os

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_finalize.connect
def schedule_periodic_tasks(sender, **kwargs):
    from django.conf import settings

    sender.add_periodic_task(
        settings.HOST_CHECK_INTERVAL_SECONDS, sender.signature("hosts.check"), name="check hosts"
    )
    sender.add_periodic_task(
        settings.VM_RECONCILE_INTERVAL_SECONDS, sender.signature("vms.reconcile"), name="reconcile VMs"
    )
    # Hosts preparing for maintenance take their next step (resumes an
    # evacuation after a worker restart, retries a failed migration).
    sender.add_periodic_task(
        settings.VM_RECONCILE_INTERVAL_SECONDS, sender.signature("hosts.maintenance_resume"),
        name="resume evacuations",
    )
    sender.add_periodic_task(
        settings.BALANCE_INTERVAL_SECONDS, sender.signature("clusters.balance"), name="balance clusters"
    )
    sender.add_periodic_task(
        settings.STORAGE_REFRESH_INTERVAL_SECONDS, sender.signature("storagedomains.refresh"),
        name="refresh storage domains",
    )


@worker_ready.connect
def fail_jobs_of_previous_run(sender, **kwargs):
    from core.jobs import jobs_fail_orphaned

    jobs_fail_orphaned(worker=sender.hostname)
