from celery import shared_task

from core.jobs import JobRun, job_task
from inventory import services


@job_task(name="host.refresh")
def host_refresh_task(run: JobRun) -> None:
    services.host_refresh_run(run)


@job_task(name="host.add", on_failure=services.hosts.host_connect_failed)
def host_add_task(run: JobRun) -> None:
    services.host_add_run(run)


@job_task(name="host.activate", on_failure=services.hosts.host_connect_failed)
def host_activate_task(run: JobRun) -> None:
    services.host_activate_run(run)


@shared_task(name="hosts.check", ignore_result=True)
def hosts_check_task() -> None:
    services.hosts_check_all()
