"""Thin Celery tasks: each takes the job (ids only) and calls its service.
Services name them ("vm.start") in job_create and never import this module."""

from celery import shared_task

from core.jobs import JobRun, job_task
from vms.services import balancing, disks, edit, lifecycle, maintenance, migration, snapshots, sync, templates


@job_task(name="vm.create", on_failure=lifecycle.vm_create_failed)
def vm_create_task(run: JobRun, start: bool) -> None:
    lifecycle.vm_create_run(run, start)


@job_task(name="vm.start", on_failure=lifecycle.vm_action_failed)
def vm_start_task(run: JobRun, previous_host_id: int | None, run_once: dict) -> None:
    lifecycle.vm_start_run(run, previous_host_id, run_once)


@job_task(name="vm.edit_live")
def vm_edit_live_task(run: JobRun, live: dict) -> None:
    edit.vm_edit_live_run(run, live)


@job_task(name="vm.shutdown", on_failure=lifecycle.vm_action_failed)
def vm_shutdown_task(run: JobRun, timeout: int) -> None:
    lifecycle.vm_shutdown_run(run, timeout)


@job_task(name="vm.poweroff", on_failure=lifecycle.vm_action_failed)
def vm_poweroff_task(run: JobRun) -> None:
    lifecycle.vm_poweroff_run(run)


@job_task(name="vm.reboot", on_failure=lifecycle.vm_action_failed)
def vm_reboot_task(run: JobRun) -> None:
    lifecycle.vm_reboot_run(run)


@job_task(name="vm.suspend", on_failure=lifecycle.vm_action_failed)
def vm_suspend_task(run: JobRun) -> None:
    lifecycle.vm_suspend_run(run)


@job_task(name="vm.resume", on_failure=lifecycle.vm_action_failed)
def vm_resume_task(run: JobRun) -> None:
    lifecycle.vm_resume_run(run)


@job_task(name="vm.delete", on_failure=lifecycle.vm_action_failed)
def vm_delete_task(run: JobRun) -> None:
    lifecycle.vm_delete_run(run)


@job_task(name="vm.migrate", on_failure=migration.vm_migrate_failed)
def vm_migrate_task(run: JobRun, source_id: int, destination_id: int, policy: str) -> None:
    migration.vm_migrate_run(run, source_id, destination_id, policy)


@job_task(name="vm.snapshot_create", on_failure=snapshots.snapshot_failed)
def vm_snapshot_create_task(run: JobRun, snapshot_id: int, before: str) -> None:
    snapshots.snapshot_create_run(run, snapshot_id, before)


@job_task(name="vm.snapshot_restore", on_failure=snapshots.snapshot_failed)
def vm_snapshot_restore_task(run: JobRun, snapshot_id: int, before: str) -> None:
    snapshots.snapshot_restore_run(run, snapshot_id, before)


@job_task(name="vm.snapshot_delete", on_failure=snapshots.snapshot_failed)
def vm_snapshot_delete_task(run: JobRun, snapshot_id: int, before: str) -> None:
    snapshots.snapshot_delete_run(run, snapshot_id, before)


@job_task(name="vm.disk_grow", on_failure=disks.disk_failed)
def vm_disk_grow_task(run: JobRun, disk_id: int, size_gb: int) -> None:
    disks.disk_grow_run(run, disk_id, size_gb)


@job_task(name="vm.disk_remove", on_failure=disks.disk_failed)
def vm_disk_remove_task(run: JobRun, disk_id: int) -> None:
    disks.disk_remove_run(run, disk_id)


@job_task(name="vm.disk_add", on_failure=disks.disk_add_failed)
def vm_disk_add_task(run: JobRun, disk_id: int, live: bool = False) -> None:
    disks.disk_add_run(run, disk_id, live)


@job_task(name="vm.disk_move", on_failure=disks.disk_failed)
def vm_disk_move_task(run: JobRun, disk_id: int, domain_id: int) -> None:
    disks.disk_move_run(run, disk_id, domain_id)


@job_task(name="vm.floating_disk_remove", on_failure=disks.floating_disk_failed)
def vm_floating_disk_remove_task(run: JobRun, disk_id: int) -> None:
    disks.floating_disk_remove_run(run, disk_id)


@shared_task(name="vms.reconcile", ignore_result=True)
def vms_reconcile_task() -> None:
    sync.vms_reconcile_all()


@job_task(name="template.create", on_failure=templates.template_create_failed)
def template_create_task(run: JobRun, template_id: int) -> None:
    templates.template_create_run(run, template_id)


@job_task(name="template.delete", on_failure=templates.template_delete_failed)
def template_delete_task(run: JobRun) -> None:
    templates.template_delete_run(run)


@shared_task(name="hosts.maintenance_resume", ignore_result=True)
def maintenance_resume_task() -> None:
    maintenance.maintenance_resume_all()


@shared_task(name="clusters.balance", ignore_result=True)
def clusters_balance_task() -> None:
    balancing.clusters_balance_all()
