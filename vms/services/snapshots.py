"""A VM's snapshots: take, restore and delete, each as a job.

Snapshots are libvirt's internal ones (hypervisor/snapshots.py says why): a VM
that runs (or is paused) is snapshotted with its memory and keeps running; a
VM that is down gets a snapshot of its disks only. Each service claims the VM
into image_locked by compare-and-swap and creates the job in one transaction
(409 when the VM is in the wrong state or busy with another job); the job's end
puts the VM in the state its host reports (running after a snapshot, as the
snapshot was after a restore). A failed job unlocks the VM and settles the
snapshot's row with what libvirt really has (removed when libvirt never made
it, illegal when half made), with an event saying why.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

import hypervisor
from core.errors import Conflict, InvalidInput
from core.events import event_record
from core.jobs import JobRun, job_create
from core.models import Job, Severity
from hypervisor import DomainNotFound, HypervisorError, NotFound
from vms.choices import DiskFormat, SnapshotStatus, VmStatus
from vms.models import Vm, VmSnapshot
from vms.services import lifecycle
from vms.services.status import vm_claim, vm_set_status

MIB = 1024**2
# Beyond the memory state, a snapshot writes metadata and the qcow2 grows as
# the guest writes on after it: refuse unless this much is left besides.
SPACE_MARGIN_BYTES = 256 * MIB
# The statuses in which a VM's snapshots may be taken, restored or deleted;
# the VM page shows the buttons by them.
SNAPSHOT_FROM = (VmStatus.UP, VmStatus.PAUSED, VmStatus.DOWN)
WITH_MEMORY = (VmStatus.UP, VmStatus.PAUSED)  # libvirt has a process (and memory) for them
RESTORABLE = (SnapshotStatus.OK,)
DELETABLE = (SnapshotStatus.OK, SnapshotStatus.ILLEGAL)


@dataclass(frozen=True)
class SnapshotNode:
    """A snapshot in its VM's tree: ``depth`` 1 for a root, its parent's + 1 below."""

    snapshot: VmSnapshot
    depth: int

    @property
    def too_deep(self) -> bool:
        return self.depth > settings.SNAPSHOT_CHAIN_WARNING_DEPTH


def snapshot_tree(vm: Vm) -> list[SnapshotNode]:
    """The VM's snapshots depth first, each after its parent (siblings by age)."""
    snapshots = list(vm.snapshots.all())
    children: dict[int | None, list[VmSnapshot]] = {}
    for snapshot in snapshots:
        children.setdefault(snapshot.parent_id, []).append(snapshot)
    nodes: list[SnapshotNode] = []

    def walk(parent_id: int | None, depth: int) -> None:
        for snapshot in children.get(parent_id, []):
            nodes.append(SnapshotNode(snapshot, depth))
            walk(snapshot.pk, depth + 1)

    walk(None, 1)
    return nodes


def snapshot_depth(snapshot: VmSnapshot) -> int:
    depth, parent_id = 1, snapshot.parent_id
    parents = dict(VmSnapshot.objects.filter(vm_id=snapshot.vm_id).values_list("pk", "parent_id"))
    while parent_id is not None and depth <= len(parents):
        depth, parent_id = depth + 1, parents.get(parent_id)
    return depth


# ---- create -----------------------------------------------------------------

def snapshot_create(*, vm: Vm, user, description: str = "", include_memory: bool | None = None
                    ) -> tuple[VmSnapshot, Job]:
    """Snapshot the VM: with its memory when it runs (``include_memory``
    defaults to that), of its disks only when it is down. Refused before
    anything is written when its storage cannot hold it."""
    running = vm.status in WITH_MEMORY
    include_memory = running if include_memory is None else include_memory
    if include_memory and not running:
        raise InvalidInput(f"VM {vm.name} is {VmStatus.label(vm.status).lower()}: it has no memory to save. "
                           "Take the snapshot without memory, or start the VM first.")
    if running and not include_memory:
        raise InvalidInput(f"VM {vm.name} is running: its snapshot must include its memory (the disks of a "
                           "running VM are only consistent with it). Include the memory, or shut the VM down first.")
    _require_host(vm, "take a snapshot")
    _require_space(vm, include_memory)
    name = f"snap-{timezone.now():%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"
    with transaction.atomic():
        before = vm.status
        vm_claim(vm=vm, to=VmStatus.IMAGE_LOCKED, allowed=SNAPSHOT_FROM, action="take a snapshot", user=user)
        snapshot = VmSnapshot.objects.create(vm=vm, name=name, description=description, has_memory=include_memory)
        job = job_create(title=f"Snapshot VM {vm.name}", task="vm.snapshot_create",
                         steps=["Take the snapshot"], target=vm, user=user, task_args=(snapshot.pk, before))
    return snapshot, job


def snapshot_create_run(run: JobRun, snapshot_id: int, _before: str) -> None:
    snapshot = _snapshot_of(snapshot_id)
    vm = snapshot.vm
    with run.step("Take the snapshot"):
        allocated = _allocated_bytes(vm)
        info = hypervisor.create_snapshot(vm.host.uri, str(vm.uuid), name=snapshot.name,
                                          description=snapshot.description)
        after = _allocated_bytes(vm)
    parent = vm.snapshots.filter(name=info.parent).first() if info.parent else None
    size = after - allocated if after is not None and allocated is not None else None
    VmSnapshot.objects.filter(pk=snapshot.pk).update(
        status=SnapshotStatus.OK, has_memory=info.has_memory, parent=parent, size_bytes=size,
        created_at=datetime.fromtimestamp(info.created_at, UTC) if info.created_at else timezone.now(),
    )
    snapshot.refresh_from_db()
    depth = snapshot_depth(snapshot)
    memory = "with its memory" if info.has_memory else "of its disks only"
    run.event(code="vm.snapshot_created", message=f"Snapshot {snapshot.name} of VM {vm.name} taken {memory}.")
    if depth > settings.SNAPSHOT_CHAIN_WARNING_DEPTH:
        run.event(code="vm.snapshot_chain_deep", severity=Severity.WARNING,
                  message=f"VM {vm.name}'s snapshot chain is {depth} deep (warning past "
                          f"{settings.SNAPSHOT_CHAIN_WARNING_DEPTH}): delete old snapshots to keep its disks fast.")
    _unlock(run, vm)


def _require_space(vm: Vm, include_memory: bool) -> None:
    """The memory state goes into the qcow2 of the VM's first disk; every
    storage domain holding one of its disks keeps the margin."""
    needed: dict[int, int] = {}
    domains = {}
    for position, disk in enumerate(vm.disks.select_related("storage_domain").order_by("index")):
        if disk.format != DiskFormat.QCOW2:
            raise Conflict(f"Disk {disk.index + 1} of VM {vm.name} is {DiskFormat.label(disk.format)}: "
                           "snapshots are kept inside qcow2 disks only.")
        memory = vm.memory_mb * MIB if include_memory and position == 0 else 0
        domains[disk.storage_domain_id] = disk.storage_domain
        needed[disk.storage_domain_id] = needed.get(disk.storage_domain_id, SPACE_MARGIN_BYTES) + memory
    if not needed:
        raise Conflict(f"VM {vm.name} has no disks to snapshot.")
    for domain_id, bytes_needed in needed.items():
        domain = domains[domain_id]
        if domain.available_bytes is not None and domain.available_bytes < bytes_needed:
            memory = f"the VM's {vm.memory_mb} MiB of memory and " if include_memory else ""
            raise Conflict(
                f"Storage domain {domain.name} has {domain.available_bytes // MIB} MiB free; the snapshot of "
                f"VM {vm.name} needs {bytes_needed // MIB} MiB there ({memory}a margin of "
                f"{SPACE_MARGIN_BYTES // MIB} MiB). Nothing was written: free space there first."
            )


def _allocated_bytes(vm: Vm) -> int | None:
    """What the VM's disk files hold on the host now (None when it cannot say)."""
    try:
        return sum(hypervisor.volume_by_path(vm.host.uri, disk.path).allocation_bytes
                   for disk in vm.disks.exclude(path=""))
    except HypervisorError:
        return None


# ---- restore ----------------------------------------------------------------

def snapshot_restore(*, snapshot: VmSnapshot, user) -> Job:
    """Bring the VM back to the snapshot: running (or paused) where it was for
    one with memory, down for one of the disks only. A down VM is not started
    by restoring a snapshot with memory: start it first (so it is placed)."""
    vm = snapshot.vm
    refusal = snapshot_restore_refusal(snapshot)
    if refusal:
        raise Conflict(refusal)
    _require_host(vm, "restore a snapshot")
    return _locked_job(snapshot, user, allowed=RESTORABLE, verb="restored", kind="vm.snapshot_restore",
                       title=f"Restore VM {vm.name} to snapshot {snapshot.name}", step="Restore the snapshot")


def snapshot_restore_refusal(snapshot: VmSnapshot) -> str:
    """Why the snapshot cannot be restored onto its VM as it is now ("" when it can)."""
    if snapshot.has_memory and snapshot.vm.status == VmStatus.DOWN:
        return (f"Snapshot {snapshot.name} holds a running guest and VM {snapshot.vm.name} is down: start the VM "
                "first (so that it is placed on a host with room), then restore.")
    return ""


def snapshot_restore_run(run: JobRun, snapshot_id: int, _before: str) -> None:
    snapshot = _snapshot_of(snapshot_id)
    vm = snapshot.vm
    with run.step("Restore the snapshot"):
        hypervisor.revert_snapshot(vm.host.uri, str(vm.uuid), snapshot.name)
    VmSnapshot.objects.filter(pk=snapshot.pk).update(status=SnapshotStatus.OK)
    run.event(code="vm.snapshot_restored", message=f"VM {vm.name} was restored to snapshot {snapshot.name}.")
    _unlock(run, vm)


# ---- delete -----------------------------------------------------------------

def snapshot_delete(*, snapshot: VmSnapshot, user) -> Job:
    """Remove the snapshot and its data in the disks; its children move up to
    its parent. An illegal one (half made) is removed too: that is its clean-up."""
    _require_host(snapshot.vm, "delete a snapshot")
    return _locked_job(snapshot, user, allowed=DELETABLE, verb="deleted", kind="vm.snapshot_delete",
                       title=f"Delete snapshot {snapshot.name} of VM {snapshot.vm.name}", step="Delete the snapshot")


def snapshot_delete_run(run: JobRun, snapshot_id: int, _before: str) -> None:
    snapshot = _snapshot_of(snapshot_id)
    vm = snapshot.vm
    with run.step("Delete the snapshot"):
        try:
            hypervisor.delete_snapshot(vm.host.uri, str(vm.uuid), snapshot.name)
        except NotFound:
            pass  # never made (a failed snapshot), or removed meanwhile
    _forget(snapshot)
    run.event(code="vm.snapshot_deleted", message=f"Snapshot {snapshot.name} of VM {vm.name} was deleted.")
    _unlock(run, vm)


# ---- shared -----------------------------------------------------------------

def _require_host(vm: Vm, action: str) -> None:
    if vm.host_id is None:
        raise Conflict(f"VM {vm.name} is defined on no host; it cannot {action}.")


def _locked_job(snapshot: VmSnapshot, user, *, allowed: tuple[str, ...], verb: str, kind: str, title: str,
                step: str) -> Job:
    """Lock the VM and the snapshot (compare-and-swap both) and create the
    job, in one transaction: a refusal leaves both as they were."""
    vm = snapshot.vm
    with transaction.atomic():
        before = vm.status
        vm_claim(vm=vm, to=VmStatus.IMAGE_LOCKED, allowed=SNAPSHOT_FROM, action=f"have a snapshot {verb}",
                 user=user)
        if not VmSnapshot.objects.filter(pk=snapshot.pk, status__in=allowed).update(status=SnapshotStatus.LOCKED):
            snapshot.refresh_from_db(fields=["status"])
            raise Conflict(f"Snapshot {snapshot.name} is {SnapshotStatus.label(snapshot.status).lower()}; "
                           f"it cannot be {verb} now.")
        return job_create(title=title, task=kind, steps=[step], target=vm, user=user,
                          task_args=(snapshot.pk, before))


def _snapshot_of(snapshot_id: int) -> VmSnapshot:
    return VmSnapshot.objects.select_related("vm__host").get(pk=snapshot_id)


def _unlock(run: JobRun, vm: Vm) -> None:
    """The VM leaves image_locked into the state its host reports."""
    state = hypervisor.domain_state(vm.host.uri, str(vm.uuid))
    vm_set_status(vm=vm, status=lifecycle.STATUS_OF_STATE[state], expected=VmStatus.IMAGE_LOCKED,
                  user=run.job.user)


def _forget(snapshot: VmSnapshot) -> None:
    """Drop the row; its children move up to its parent, as in libvirt."""
    VmSnapshot.objects.filter(parent=snapshot).update(parent=snapshot.parent_id)
    snapshot.delete()


def snapshot_failed(run: JobRun, message: str) -> None:
    """The job's failure handler: settle the snapshot with what libvirt has,
    then unlock the VM into the state its host reports."""
    snapshot_id, before = run.job.args
    snapshot = VmSnapshot.objects.select_related("vm__host").filter(pk=snapshot_id).first()
    if snapshot is not None:
        _settle(run, snapshot, message)
    vm = Vm.objects.filter(pk=run.job.target_id).first()
    if vm is not None:
        # Back to where it was first, so the lifecycle's handler reads no
        # failed deletion into a locked VM; then the host's word decides.
        vm_set_status(vm=vm, status=before, expected=VmStatus.IMAGE_LOCKED, record=False)
        lifecycle.vm_action_failed(run, message)


def _settle(run: JobRun, snapshot: VmSnapshot, message: str) -> None:
    vm = snapshot.vm
    try:
        made = any(info.name == snapshot.name for info in hypervisor.list_snapshots(vm.host.uri, str(vm.uuid)))
    except DomainNotFound:
        made = False  # no domain, no snapshot
    except HypervisorError:
        made = None  # the host cannot say
    if made is False:
        _forget(snapshot)
        event_record(code="vm.snapshot_removed", severity=Severity.WARNING, target=vm, job=run.job,
                     user=run.job.user, message=f"Snapshot {snapshot.name} of VM {vm.name} is not on its host "
                                                f"and was removed from the list: {message}")
    elif made is None or run.job.kind == "vm.snapshot_create":
        VmSnapshot.objects.filter(pk=snapshot.pk).update(status=SnapshotStatus.ILLEGAL)
        event_record(code="vm.snapshot_illegal", severity=Severity.WARNING, target=vm, job=run.job,
                     user=run.job.user, message=f"Snapshot {snapshot.name} of VM {vm.name} may be incomplete and "
                                                f"is marked illegal; delete it to clean up. {message}")
    else:
        VmSnapshot.objects.filter(pk=snapshot.pk).update(status=SnapshotStatus.OK)
