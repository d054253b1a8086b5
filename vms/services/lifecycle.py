"""Creating, starting, stopping and deleting VMs, each as a job.

The service claims the VM with a compare-and-swap into a transitional status
(409 naming the current status when that fails), then creates the job; an
action that needs a host (create, start, Run Once) first locks the cluster and
asks the scheduler, so that placing and claiming are one step. The job's run
does the hypervisor work and moves the VM on. A failed job puts the VM back into the
status its host reports (or unknown when the host cannot say), so nothing
stays locked, and the job's error event says why."""

from __future__ import annotations

import os
import time
from dataclasses import asdict

from django.core.exceptions import ValidationError
from django.db import transaction

from core.errors import Conflict, HypervisorUnavailable
from core.events import event_record
from core.jobs import JobRun, job_create
from core.models import Job, Severity
import hypervisor
from hypervisor import Conflict as HypervisorConflict
from hypervisor import DomainNotFound, HypervisorError
from inventory.choices import HostStatus, ImageContent, ImageStatus
from inventory.models import Host, Image
from inventory.services.spm import spm_review
from inventory.services.storage import storage_images_pool_ensure, storage_pool_name
from vms.choices import BootDevice, DiskFormat, DiskStatus, VmStatus
from vms.models import Vm, VmDisk, VmNic
from vms.policy import BootOverride
from vms.services.definition import vm_define, vm_domain_spec
from vms.services.edit import vm_next_run_apply
from vms.services.from_template import template_disk_create
from vms.services.initialization import (
    initialization_discard,
    initialization_finish,
    initialization_prepare,
    initialization_save,
)
from vms.services.placement import (
    cluster_lock,
    demand_of,
    placement_for,
    placement_record,
    placement_refusal,
    placement_required,
)
from vms.services.requests import GIB, VmRequest, vm_request_clean
from vms.services.status import vm_claim, vm_set_status

STATE_POLL_SECONDS = 0.5
# libvirt's domain states as VM statuses.
STATUS_OF_STATE = {
    "running": VmStatus.UP,
    "blocked": VmStatus.UP,
    "paused": VmStatus.PAUSED,
    "shutdown": VmStatus.POWERING_DOWN,
    "shutoff": VmStatus.DOWN,
    "crashed": VmStatus.DOWN,
    "pmsuspended": VmStatus.SUSPENDED,
    "nostate": VmStatus.UNKNOWN,
}
# The statuses each action accepts: the services judge by them, and the VM
# page shows a button only where its service would accept it.
STARTABLE = (VmStatus.DOWN,)
STOPPABLE = (VmStatus.UP, VmStatus.PAUSED, VmStatus.POWERING_UP, VmStatus.POWERING_DOWN,
             VmStatus.REBOOT_IN_PROGRESS, VmStatus.NOT_RESPONDING, VmStatus.UNKNOWN)
SHUTDOWN_FROM = REBOOT_FROM = SUSPEND_FROM = (VmStatus.UP,)
RESUME_FROM = (VmStatus.PAUSED,)
DELETABLE = (VmStatus.DOWN, VmStatus.UNKNOWN)


# ---- create ---------------------------------------------------------------

def vm_create(*, request: VmRequest, user) -> tuple[Vm, Job]:
    """Check everything, place the VM, then create its rows (image_locked)
    and the job that creates its disks and defines it on the chosen host; one
    transaction under the cluster's lock, so parallel creates each see the
    ones placed before (a VM to start commits its host from now on)."""
    with transaction.atomic():
        cluster_lock(request.cluster.pk)
        request = vm_request_clean(request)
        placement = placement_for(cluster=request.cluster, demand=demand_of(request))
        host_id = placement_required(placement, vm_name=request.name)
        vm = Vm.objects.create(
            name=request.name, description=request.description, cluster=request.cluster,
            data_center_id=request.cluster.data_center_id, os_type=request.os_type,
            instance_type=request.instance_type, optimization=request.optimization,
            memory_mb=request.memory_mb, memory_guaranteed_mb=request.memory_guaranteed_mb,
            cpu_sockets=request.cpu_sockets, cpu_cores=request.cpu_cores, cpu_threads=request.cpu_threads,
            provisioning=request.provisioning, console=request.console, pinned_host=request.host,
            template=request.template,
            template_version=request.template.version_number if request.template else None,
            host_id=host_id, status=VmStatus.IMAGE_LOCKED, owner=user, placement=placement_record(placement),
        )
        for index, disk in enumerate(request.disks):
            volume = f"vm-{vm.uuid}-disk{index}.{'img' if disk.format == DiskFormat.RAW else 'qcow2'}"
            VmDisk.objects.create(
                vm=vm, index=index, size_gb=disk.size_gb, format=disk.format, allocation=disk.allocation,
                interface=disk.interface, bootable=disk.bootable, storage_domain=disk.storage_domain,
                image=disk.image, template_disk=disk.template_disk, volume_name=volume,
                path=os.path.join(disk.storage_domain.path, volume),
            )
        for index, nic in enumerate(request.nics):
            VmNic.objects.create(vm=vm, index=index, network=nic.network, model=nic.model, mac=nic.mac,
                                 data_center_id=vm.data_center_id)
        if request.initialization is not None:
            initialization_save(vm=vm, init=request.initialization)
        origin = (f" from template {request.template.name} (version {request.template.version_number}, "
                  f"{request.provisioning})" if request.template else "")
        event_record(code="vm.created", message=f"VM {vm.name} created{origin} by {user}; {placement.summary}",
                     user=user, target=vm)
        steps = [f"Create disk {index + 1}" for index in range(len(request.disks))]
        steps.append(f"Define on {placement.host_name}")
        if request.start:
            steps.append(f"Start on {placement.host_name}")
        job = job_create(title=f"Create VM {vm.name}", task="vm.create", steps=steps, target=vm,
                         user=user, task_args=(request.start,))
    return vm, job


def vm_create_run(run: JobRun, start: bool) -> None:
    vm = _vm_of(run)
    for disk in vm.disks.select_related("storage_domain", "image__storage_domain", "template_disk", "vm"):
        with run.step(f"Create disk {disk.index + 1}"):
            _disk_create(disk)
    host = vm.host
    with run.step(f"Define on {host.name}"):
        vm_define(vm, host)
    if not start:
        vm_set_status(vm=vm, status=VmStatus.DOWN, expected=VmStatus.IMAGE_LOCKED, user=run.job.user)
        return
    # Straight on to powering up, never down in between: its place on the host,
    # held since its creation, must not be taken meanwhile.
    vm_claim(vm=vm, to=VmStatus.POWERING_UP, allowed=(VmStatus.IMAGE_LOCKED,), action="start", user=run.job.user)
    with run.step(f"Start on {host.name}"):
        _start_on(run, vm, host)


def _disk_create(disk: VmDisk) -> None:
    """Through the SPM host, which manages the data center's storage."""
    if disk.status == DiskStatus.OK:
        return  # a redelivered job: already there
    spm = _spm(disk.vm)
    pool = storage_pool_name(disk.storage_domain)
    capacity = disk.size_gb * GIB
    if disk.template_disk is not None:
        template_disk_create(disk, spm)
    elif disk.image is not None:
        storage_images_pool_ensure(domain=disk.image.storage_domain, host=spm)
        # Read as the format detected at upload, converted by libvirt on the host.
        hypervisor.copy_volume(spm.uri, pool, disk.volume_name, source_path=disk.image.path,
                               source_format=disk.image.format, format=disk.format, capacity_bytes=capacity)
    else:
        hypervisor.create_volume(spm.uri, pool, disk.volume_name, capacity_bytes=capacity, format=disk.format)
    VmDisk.objects.filter(pk=disk.pk).update(status=DiskStatus.OK)


def vm_create_failed(run: JobRun, message: str) -> None:
    vm = Vm.objects.filter(pk=run.job.target_id).first()
    if vm is None:
        return
    vm.disks.filter(status=DiskStatus.LOCKED).update(status=DiskStatus.ILLEGAL)
    vm_set_status(vm=vm, status=VmStatus.DOWN, expected=(VmStatus.IMAGE_LOCKED, VmStatus.POWERING_UP),
                  reason=f"Creation failed: {message} Delete the VM, or fix the cause and start it.",
                  user=run.job.user)


# ---- start and Run Once -----------------------------------------------------

def vm_start(*, vm: Vm, user, host: Host | None = None) -> Job:
    return _start_job(vm=vm, user=user, host=host, title=f"Start VM {vm.name}")


def vm_run_once(
    *, vm: Vm, user, boot_device: str = BootDevice.HD, iso: int | None = None, kernel: str = "", initrd: str = "",
    cmdline: str = "", boot_menu: bool = False, console: str | None = None, stateless: bool = False,
    start_paused: bool = False, host: Host | None = None,
) -> Job:
    """Start once with options that are never saved into the VM's definition:
    boot from an ISO of the data center, the network or a kernel; a boot
    menu; paused; stateless (writes go to overlays discarded at power off)."""
    boot = BootOverride(
        boot_device=boot_device, iso_path=_iso_path(vm, boot_device, iso), kernel=_absolute("kernel", kernel),
        initrd=_absolute("initrd", initrd), cmdline=cmdline, boot_menu=boot_menu, console=console,
    )
    if host is not None and host.cluster_id != vm.cluster_id:
        raise ValidationError({"host": f"Host {host.name} is not in cluster {vm.cluster.name}."})
    options = {"boot": asdict(boot), "stateless": stateless, "start_paused": start_paused}
    return _start_job(vm=vm, user=user, host=host, title=f"Run VM {vm.name} once", run_once=options)


def _iso_path(vm: Vm, boot_device: str, iso: int | None) -> str | None:
    if iso is None:
        if boot_device == BootDevice.CDROM:
            raise ValidationError({"iso": "Booting from CD needs an ISO: give its id."})
        return None
    image = Image.objects.filter(pk=iso, content=ImageContent.ISO, status=ImageStatus.OK,
                                 storage_domain__data_center_id=vm.data_center_id).first()
    if image is None:
        raise ValidationError({"iso": f"No ready ISO with id {iso} in data center {vm.data_center.name}."})
    return image.path


def _absolute(name: str, path: str) -> str | None:
    if not path:
        return None
    if not path.startswith("/") or ".." in path.split("/"):
        raise ValidationError({name: f"Give the {name} as an absolute path on the host, without '..'."})
    return path


def _start_job(*, vm: Vm, user, host: Host | None, title: str, run_once: dict | None = None) -> Job:
    """Place and claim in one transaction under the cluster's lock: the VM
    moves to powering up on its chosen host (so it counts there at once) and
    the job is created; a refusal rolls it all back and records why."""
    _require(vm, STARTABLE, "start")
    if vm.disks.exclude(status=DiskStatus.OK).exists():
        raise Conflict(f"VM {vm.name} has disks that are not ready (locked or illegal); it cannot start.")
    previous_host_id = vm.host_id
    with transaction.atomic():
        cluster_lock(vm.cluster_id)
        vm_next_run_apply(vm=vm, user=user)  # placed as it will run; a refused start keeps it pending
        placement = placement_for(cluster=vm.cluster, demand=demand_of(vm, pinned_host=host), leaving_out_vm=vm.pk)
        if placement.host_id is not None:
            vm_claim(vm=vm, to=VmStatus.POWERING_UP, allowed=STARTABLE, action="start", user=user)
            Vm.objects.filter(pk=vm.pk).update(placement=placement_record(placement), host_id=placement.host_id)
            return job_create(title=title, task="vm.start", steps=[f"Start on {placement.host_name}"], target=vm,
                              user=user, task_args=(previous_host_id, run_once or {}))
        transaction.set_rollback(True)  # refused: its pending changes stay pending
    Vm.objects.filter(pk=vm.pk).update(placement=placement_record(placement))
    raise placement_refusal(placement, vm_name=vm.name)


def vm_start_run(run: JobRun, previous_host_id: int | None, run_once: dict) -> None:
    """On the host the VM was placed on (its host since the claim);
    ``previous_host_id`` is where it was defined before."""
    vm = _vm_of(run)
    with run.step(run.job.steps[0]["name"]):
        _start_on(run, vm, vm.host, run_once, previous=Host.objects.filter(pk=previous_host_id).first())


def _start_on(run: JobRun, vm: Vm, host: Host, run_once: dict | None = None, previous: Host | None = None) -> None:
    initialization_prepare(vm=vm, host=host)  # the first start's config drive, if any
    _define_on(vm, host, previous)
    if run_once:
        _run_once_on(vm, host, run_once)
    else:
        hypervisor.start_domain(host.uri, str(vm.uuid))
    status = VmStatus.PAUSED if run_once and run_once.get("start_paused") else VmStatus.UP
    vm_set_status(vm=vm, status=status, expected=VmStatus.POWERING_UP, host_id=host.pk, user=run.job.user)
    initialization_finish(vm=vm, host=host)  # started once: the config drive goes


def _define_on(vm: Vm, host: Host, old: Host | None = None) -> None:
    """Define the VM where it will run, from its rows (so edits apply at the
    next start); a definition left on the host it ran on before is removed."""
    if old is not None and old.pk != host.pk:
        try:
            hypervisor.undefine_domain(old.uri, str(vm.uuid))
        except DomainNotFound:
            pass
        except HypervisorError as error:  # it is not running there; a stale definition is harmless
            event_record(code="vm.stale_definition", severity=Severity.WARNING, target=vm,
                         message=f"VM {vm.name} stays defined on {old.name}: {error.message}")
    vm_define(vm, host)


def _run_once_on(vm: Vm, host: Host, options: dict) -> None:
    boot = BootOverride(**options["boot"])
    overlays: dict[int, str] = {}
    if options.get("stateless"):
        for disk in vm.disks.select_related("storage_domain"):
            name = f"vm-{vm.uuid}-disk{disk.index}-stateless.qcow2"
            hypervisor.delete_volume(host.uri, os.path.join(disk.storage_domain.path, name))
            info = hypervisor.overlay_volume(host.uri, storage_pool_name(disk.storage_domain), name,
                                             backing_path=disk.path, backing_format=disk.format)
            overlays[disk.index] = info.path
    # Saved before starting: if the start fails, the overlays are still found and removed.
    Vm.objects.filter(pk=vm.pk).update(run_once={**options, "overlays": list(overlays.values())})
    spec = vm_domain_spec(vm, host, boot=boot, disk_paths=overlays)
    hypervisor.run_domain_once(host.uri, spec, paused=bool(options.get("start_paused")))


# ---- stop, reboot, pause ----------------------------------------------------

def vm_shutdown(*, vm: Vm, user) -> Job:
    return _claimed_job(vm, user, to=VmStatus.POWERING_DOWN, allowed=SHUTDOWN_FROM, action="shut down",
                        kind="vm.shutdown", title=f"Shut down VM {vm.name}",
                        steps=["Ask the guest to shut down", "Wait for it to stop"],
                        args=(vm.cluster.shutdown_timeout_seconds,))


def vm_shutdown_run(run: JobRun, timeout: int) -> None:
    vm = _vm_of(run)
    uri, uuid = vm.host.uri, str(vm.uuid)
    with run.step("Ask the guest to shut down"):
        hypervisor.shutdown_domain(uri, uuid)
    with run.step("Wait for it to stop"):
        deadline = time.monotonic() + timeout
        while hypervisor.domain_state(uri, uuid) != "shutoff":
            if time.monotonic() >= deadline:
                hypervisor.destroy_domain(uri, uuid)
                run.event(code="vm.shutdown_timeout", severity=Severity.WARNING,
                          message=f"VM {vm.name} did not shut down within {timeout} s; it was powered off.")
                break
            waited = timeout - (deadline - time.monotonic())
            run.step_progress("Wait for it to stop", int(100 * waited / timeout))
            time.sleep(STATE_POLL_SECONDS)
    vm_stopped(vm=vm, user=run.job.user)


def vm_poweroff(*, vm: Vm, user) -> Job:
    return _claimed_job(vm, user, to=VmStatus.POWERING_DOWN, allowed=STOPPABLE, action="power off",
                        kind="vm.poweroff", title=f"Power off VM {vm.name}", steps=["Power off"])


def vm_poweroff_run(run: JobRun) -> None:
    vm = _vm_of(run)
    with run.step("Power off"):
        try:
            hypervisor.destroy_domain(vm.host.uri, str(vm.uuid))
        except HypervisorConflict:
            pass  # it stopped by itself meanwhile
    vm_stopped(vm=vm, user=run.job.user)


def vm_stopped(*, vm: Vm, user=None) -> None:
    """The VM's domain is off: mark it down and discard a stateless run's overlays."""
    vm_set_status(vm=vm, status=VmStatus.DOWN, expected=STOPPABLE + (VmStatus.MIGRATING,), user=user)
    run_once_discard(vm=vm)


def run_once_discard(*, vm: Vm) -> None:
    vm.refresh_from_db(fields=["run_once", "host"])
    if not vm.run_once:
        return
    overlays = vm.run_once.get("overlays", [])
    for path in overlays:
        try:
            hypervisor.delete_volume(vm.host.uri, path)
        except HypervisorError as error:
            event_record(code="vm.overlay_left", severity=Severity.WARNING, target=vm,
                         message=f"The stateless overlay {path} of VM {vm.name} could not be removed: {error.message}")
            return  # kept in run_once, tried again at the next stop
    Vm.objects.filter(pk=vm.pk).update(run_once={})
    vm.run_once = {}


def vm_reboot(*, vm: Vm, user) -> Job:
    return _claimed_job(vm, user, to=VmStatus.REBOOT_IN_PROGRESS, allowed=REBOOT_FROM, action="reboot",
                        kind="vm.reboot", title=f"Reboot VM {vm.name}", steps=["Reboot"])


def vm_reboot_run(run: JobRun) -> None:
    vm = _vm_of(run)
    with run.step("Reboot"):
        hypervisor.reboot_domain(vm.host.uri, str(vm.uuid))
    vm_set_status(vm=vm, status=VmStatus.UP, expected=VmStatus.REBOOT_IN_PROGRESS, user=run.job.user)


def vm_suspend(*, vm: Vm, user) -> Job:
    _require(vm, SUSPEND_FROM, "suspend")
    return _job(vm, user, "vm.suspend", f"Suspend VM {vm.name}", ["Suspend"])


def vm_suspend_run(run: JobRun) -> None:
    vm = _vm_of(run)
    with run.step("Suspend"):
        hypervisor.suspend_domain(vm.host.uri, str(vm.uuid))
    vm_set_status(vm=vm, status=VmStatus.PAUSED, expected=(VmStatus.UP, VmStatus.PAUSED), user=run.job.user)


def vm_resume(*, vm: Vm, user) -> Job:
    _require(vm, RESUME_FROM, "resume")
    return _job(vm, user, "vm.resume", f"Resume VM {vm.name}", ["Resume"])


def vm_resume_run(run: JobRun) -> None:
    vm = _vm_of(run)
    with run.step("Resume"):
        hypervisor.resume_domain(vm.host.uri, str(vm.uuid))
    vm_set_status(vm=vm, status=VmStatus.UP, expected=(VmStatus.PAUSED, VmStatus.UP), user=run.job.user)


# ---- delete -----------------------------------------------------------------

def vm_delete(*, vm: Vm, user) -> Job:
    steps = ["Remove the definition", *(f"Remove disk {disk.index + 1}" for disk in vm.disks.all())]
    return _claimed_job(vm, user, to=VmStatus.IMAGE_LOCKED, allowed=DELETABLE,
                        action="be deleted", kind="vm.delete", title=f"Delete VM {vm.name}", steps=steps)


def vm_delete_run(run: JobRun) -> None:
    vm = _vm_of(run)
    with run.step("Remove the definition"):
        if vm.host is not None:
            try:
                hypervisor.undefine_domain(vm.host.uri, str(vm.uuid))
            except DomainNotFound:
                pass
    run_once_discard(vm=vm)
    initialization_discard(vm=vm, uri=(vm.host or _spm(vm)).uri)
    for disk in vm.disks.select_related("storage_domain"):
        with run.step(f"Remove disk {disk.index + 1}"):
            if disk.path:
                hypervisor.delete_volume(_spm(vm).uri, disk.path)
    event_record(code="vm.deleted", message=f"VM {vm.name} and its disks were deleted.", user=run.job.user,
                 target=vm, job=run.job)
    vm.delete()


# ---- shared -----------------------------------------------------------------

def _require(vm: Vm, allowed: tuple[str, ...], action: str) -> None:
    if vm.status not in allowed:
        needed = " or ".join(VmStatus.label(s).lower() for s in allowed)
        raise Conflict(f"VM {vm.name} is {VmStatus.label(vm.status).lower()}; it can {action} only when {needed}.")


def _job(vm: Vm, user, kind: str, title: str, steps: list[str], *args) -> Job:
    return job_create(title=title, task=kind, steps=steps, target=vm, user=user, task_args=args)


def _claimed_job(vm: Vm, user, *, to: str, allowed: tuple[str, ...], action: str, kind: str, title: str,
                 steps: list[str], args: tuple = ()) -> Job:
    """Claim the VM into ``to``, then create the job; if the job cannot be
    created (another one is running), the VM goes back to where it was."""
    before = vm.status
    vm_claim(vm=vm, to=to, allowed=allowed, action=action, user=user)
    try:
        return _job(vm, user, kind, title, steps, *args)
    except Exception:
        vm_set_status(vm=vm, status=before, expected=to, record=False)
        raise


def _vm_of(run: JobRun) -> Vm:
    return Vm.objects.select_related("host", "cluster", "data_center", "os_type").get(pk=run.job.target_id)


def _spm(vm: Vm) -> Host:
    spm = spm_review(data_center=vm.data_center)
    if spm is None or spm.status != HostStatus.UP:
        raise HypervisorUnavailable(
            f"Data center {vm.data_center.name} has no SPM host up; its storage cannot be changed now."
        )
    return spm


def vm_action_failed(run: JobRun, message: str) -> None:
    """Whatever the action, the VM ends in the status its host reports."""
    vm = Vm.objects.select_related("host").filter(pk=run.job.target_id).first()
    if vm is None:
        return
    status, reason = VmStatus.UNKNOWN, f"Its host could not say after a failed action: {message}"
    if vm.host is not None:
        try:
            status = STATUS_OF_STATE[hypervisor.domain_state(vm.host.uri, str(vm.uuid))]
            reason = ""
        except DomainNotFound:
            status, reason = VmStatus.DOWN, ""
        except HypervisorError:
            pass
    if status == VmStatus.DOWN and vm.status == VmStatus.IMAGE_LOCKED:
        reason = f"Deletion failed: {message}"
    vm_set_status(vm=vm, status=status, expected=tuple(VmStatus.values()), reason=reason, user=run.job.user)
    if status == VmStatus.DOWN:
        run_once_discard(vm=vm)
