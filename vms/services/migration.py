"""Live migration of a running VM to another host of its cluster, as a job.

The service asks the scheduler for the destination (the admin's choice is
checked by the same filters: it must pass them), claims the VM up -> migrating
by compare-and-swap and creates the job, all under the cluster's lock. The job
waits for a slot (at most MAX_MIGRATIONS_PER_HOST leaving the source and
arriving at the destination at once; the others wait in line, visible as
running jobs on their "Wait for a migration slot" step), migrates peer to peer
with the cluster's policy and bandwidth, shows libvirt's figures as its
progress, and records the measured downtime in its result. Success moves the
VM to the destination; a failure or a cancel leaves it running where it was,
with an event giving libvirt's reason.
"""

from __future__ import annotations

import time
from dataclasses import replace

from django.db import transaction

from core.errors import Conflict, HypervisorUnavailable
from core.jobs import JobCancelled, JobRun, job_create
from core.models import Job, JobStatus
import hypervisor
from hypervisor import HypervisorError
from hypervisor.migration import MigrationAborted, MigrationProgress, migrate_domain
from inventory.choices import StorageType
from inventory.models import Host
from vms.choices import Optimization, VmStatus
from vms.evacuation import MAX_MIGRATIONS_PER_HOST, bandwidth_mib_s
from vms.migration_policy import MIGRATION_POLICIES, migration_options
from vms.models import Vm
from vms.scheduler import Placement
from vms.services.lifecycle import STATUS_OF_STATE
from vms.services.placement import cluster_lock, demand_of, placement_for, placement_refusal
from vms.services.status import vm_claim, vm_set_status

MIGRATABLE = (VmStatus.UP,)
SLOT_POLL_SECONDS = 1.0
WAIT_STEP = "Wait for a migration slot"


def migration_destinations(*, vm: Vm) -> Placement:
    """The Migrate dialog's table: the scheduler's verdict on every host of
    the cluster, the VM's own host refused (a VM cannot migrate onto itself)."""
    return _placement(vm, None)


def vm_migrate(*, vm: Vm, user, host: Host | None = None, policy: str | None = None) -> Job:
    """Start a live migration to ``host``, or to the scheduler's choice."""
    if vm.status not in MIGRATABLE:
        raise Conflict(f"VM {vm.name} is {VmStatus.label(vm.status).lower()}; only a VM that is up can migrate.")
    if vm.optimization == Optimization.HIGH_PERFORMANCE:
        raise Conflict(f"VM {vm.name} is high_performance: its vCPUs and memory are pinned to this host's NUMA "
                       "cells, so it is not live-migrated. Shut it down and start it on another host.")
    if policy is not None and policy not in MIGRATION_POLICIES:
        raise Conflict(f"Unknown migration policy {policy!r}; known: {', '.join(MIGRATION_POLICIES)}.")
    if host is not None and host.pk == vm.host_id:
        raise Conflict(f"VM {vm.name} already runs on {host.name}; choose another host.")
    policy = policy or vm.cluster.migration_policy
    with transaction.atomic():
        cluster_lock(vm.cluster_id)
        placement = _placement(vm, host)
        if placement.host_id is None:
            raise placement_refusal(placement, vm_name=vm.name)
        vm_claim(vm=vm, to=VmStatus.MIGRATING, allowed=MIGRATABLE, action="migrate", user=user)
        return job_create(title=f"Migrate VM {vm.name} to {placement.host_name}", task="vm.migrate",
                          steps=[WAIT_STEP, f"Migrate to {placement.host_name}"], target=vm, user=user,
                          task_args=(vm.host_id, placement.host_id, policy), cancellable=True)


def _placement(vm: Vm, host: Host | None) -> Placement:
    demand = demand_of(vm, pinned_host=host)
    placement = placement_for(cluster=vm.cluster, demand=demand, leaving_out_vm=vm.pk)
    # The scheduler knows nothing of "migrate": its own host would fit the VM
    # best of all (it already holds it). Refuse it here, with the reason.
    verdicts = tuple(
        verdict if verdict.host_id != vm.host_id else
        replace(verdict, passed=False, filter="source", reason="the VM runs here now", score=None)
        for verdict in placement.verdicts
    )
    passed = [verdict for verdict in verdicts if verdict.passed]
    best = passed[0] if passed else None
    summary = (f"Migrate to {best.host_name}: {best.reason}" if best else
               "No other host fits: " + "; ".join(f"{v.host_name}: {v.reason}" for v in verdicts[:3]))
    return Placement(best.host_id if best else None, best.host_name if best else None,
                     tuple(passed) + tuple(v for v in verdicts if not v.passed), summary)


def vm_migrate_run(run: JobRun, source_id: int, destination_id: int, policy: str) -> None:
    vm = Vm.objects.select_related("cluster").get(pk=run.job.target_id)
    source, destination = Host.objects.get(pk=source_id), Host.objects.get(pk=destination_id)
    with run.step(WAIT_STEP):
        _take_slot(run, source, destination)
    step = run.job.steps[1]["name"]
    report = run.step_reporter(step)
    options = migration_options(
        policy, bandwidth_mib_s=max(1, round(bandwidth_mib_s(vm.cluster.migration_bandwidth_mbps))),
        unsafe_shared_directory=vm.disks.filter(storage_domain__storage_type=StorageType.DIR).exists(),
    )
    with run.step(step):
        try:
            result = migrate_domain(
                source.uri, str(vm.uuid), dest_uri=destination.uri, options=options,
                progress=lambda figures: _report(report, figures), cancelled=run.cancel_requested,
            )
        except MigrationAborted as aborted:
            if run.cancel_requested():
                raise JobCancelled(f"VM {vm.name} stays on {source.name}.") from aborted
            raise Conflict(f"VM {vm.name} stays on {source.name}: {aborted.message}") from aborted
        except HypervisorError as error:
            # libvirt names the connection it was using (the source's), whatever failed:
            # say plainly which move failed and where the VM is.
            raise HypervisorUnavailable(f"The migration to {destination.name} failed and VM {vm.name} stays on "
                                        f"{source.name}. libvirt said: {error.message}") from error
        vm_set_status(vm=vm, status=VmStatus.UP, expected=VmStatus.MIGRATING, host_id=destination.pk,
                      user=run.job.user, reason=f"Migrated from {source.name} to {destination.name}.")
    run.result_set(total_ms=result.total_ms, downtime_ms=result.downtime_ms, data_bytes=result.data_bytes,
                   source=source.pk, destination=destination.pk, downtime_steps=result.steps_taken,
                   last_resort_used=result.last_resort_used)
    run.event(code="vm.migrated", message=(
        f"VM {vm.name} moved from {source.name} to {destination.name} in {result.total_ms / 1000:.1f} s"
        + (f", paused {result.downtime_ms} ms" if result.downtime_ms is not None else "") + "."))
    _evacuation_step(source_id=source.pk, vm=vm)


def _evacuation_step(**ended) -> None:
    # Imported here: the evacuation starts migrations, so it imports this module.
    from vms.services.maintenance import maintenance_migration_ended

    maintenance_migration_ended(**ended)


def _report(report, figures: MigrationProgress) -> None:
    if figures.data_total:
        report(figures.data_total - figures.data_remaining, figures.data_total)


def _take_slot(run: JobRun, source: Host, destination: Host) -> None:
    """Wait until fewer than MAX_MIGRATIONS_PER_HOST migrations leave the
    source and arrive at the destination, then hold a slot (recorded in the
    job's result, which is what the others count). The two hosts' rows are
    locked meanwhile so two jobs never take the last slot together."""
    while True:
        if run.cancel_requested():
            raise JobCancelled("cancelled while it waited for a migration slot")
        with transaction.atomic():
            list(Host.objects.select_for_update().filter(pk__in=[source.pk, destination.pk]).order_by("pk"))
            moving = Job.objects.filter(kind="vm.migrate", status=JobStatus.RUNNING).exclude(pk=run.job.pk)
            leaving = moving.filter(result__source=source.pk).count()
            arriving = moving.filter(result__destination=destination.pk).count()
            if leaving < MAX_MIGRATIONS_PER_HOST and arriving < MAX_MIGRATIONS_PER_HOST:
                run.result_set(source=source.pk, destination=destination.pk)
                return
        time.sleep(SLOT_POLL_SECONDS)


def vm_migrate_failed(run: JobRun, message: str) -> None:
    """The VM runs wherever libvirt says: normally still on the source (a
    failed migration is rolled back there), else on the destination."""
    vm = Vm.objects.filter(pk=run.job.target_id).first()
    if vm is None:
        return
    source_id, destination_id, _policy = run.job.args
    # The source first: that is where a failed migration leaves the VM.
    for host in filter(None, (Host.objects.filter(pk=pk).first() for pk in (source_id, destination_id))):
        try:
            state = hypervisor.domain_state(host.uri, str(vm.uuid))
        except HypervisorError:  # DomainNotFound among them: not there
            continue
        vm_set_status(vm=vm, status=STATUS_OF_STATE[state], expected=VmStatus.MIGRATING, host_id=host.pk,
                      user=run.job.user, reason=f"The migration did not happen: {message}")
        _evacuation_step(source_id=source_id, vm=vm, failure=message)
        return
    vm_set_status(vm=vm, status=VmStatus.UNKNOWN, expected=VmStatus.MIGRATING, user=run.job.user,
                  reason=f"After a failed migration neither host could say where it runs: {message}")
