"""Thin Celery tasks of the inventory: each takes a job and calls its service."""

from celery import shared_task

from core.jobs import JobRun, job_task
from inventory import services
from inventory.services import fencing


@job_task(name="host.refresh")
def host_refresh_task(run: JobRun) -> None:
    services.host_refresh_run(run)


@job_task(name="host.add", on_failure=services.hosts.host_connect_failed)
def host_add_task(run: JobRun) -> None:
    services.host_add_run(run)


@job_task(name="host.activate", on_failure=services.hosts.host_connect_failed)
def host_activate_task(run: JobRun) -> None:
    services.host_activate_run(run)


@job_task(name="host.fence")
def host_fence_task(run: JobRun, action: str) -> None:
    fencing.host_fence_run(run, action)


@job_task(name="storagedomain.attach", on_failure=services.storage.storage_domain_attach_failed)
def storage_domain_attach_task(run: JobRun) -> None:
    services.storage_domain_attach_run(run)


@job_task(name="storagedomain.detach", on_failure=services.storage.storage_domain_detach_failed)
def storage_domain_detach_task(run: JobRun) -> None:
    services.storage_domain_detach_run(run)


@job_task(name="network.attach", on_failure=services.network.network_attach_failed)
def network_attach_task(run: JobRun) -> None:
    services.network_attach_run(run)


@job_task(name="network.detach", on_failure=services.network.network_detach_failed)
def network_detach_task(run: JobRun, was: str = "active") -> None:
    services.network_detach_run(run, was)


@shared_task(name="storagedomains.refresh", ignore_result=True)
def storage_domains_refresh_task() -> None:
    services.storage_domains_refresh_all()


@shared_task(name="hosts.check", ignore_result=True)
def hosts_check_task() -> None:
    services.hosts_check_all()
