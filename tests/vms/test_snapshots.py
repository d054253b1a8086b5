"""VM snapshots against libvirt's test driver: the service creates the job,
the test runs it in-process and looks at libvirt and the rows afterwards."""

import pytest

import hypervisor
from core.errors import Conflict, InvalidInput
from core.models import Event
from tests.support.jobs import run_job as run
from tests.vms.test_lifecycle import request, world  # noqa: F401 (the world fixture)
from vms.choices import SnapshotStatus, VmStatus
from vms.models import Vm, VmSnapshot
from vms.selectors import vms_commitment
from vms.services import lifecycle
from vms.services.snapshots import snapshot_create, snapshot_delete, snapshot_restore, snapshot_tree

pytestmark = pytest.mark.django_db


@pytest.fixture
def vm(world, admin):
    """web1, running on host1."""
    created, job = lifecycle.vm_create(request=request(world), user=admin)
    assert run(job).status == "succeeded"
    return Vm.objects.get(pk=created.pk)


def libvirt_snapshots(vm):
    return {info.name: info for info in hypervisor.list_snapshots(vm.host.uri, str(vm.uuid))}


def test_a_running_vm_is_snapshotted_with_its_memory_and_keeps_running(vm, admin):
    snapshot, job = snapshot_create(vm=vm, user=admin, description="before upgrade")
    assert Vm.objects.get().status == VmStatus.IMAGE_LOCKED
    assert run(job).status == "succeeded"
    snapshot.refresh_from_db()
    assert (snapshot.status, snapshot.has_memory, snapshot.description) == (SnapshotStatus.OK, True, "before upgrade")
    assert libvirt_snapshots(vm)[snapshot.name].has_memory
    assert Vm.objects.get().status == VmStatus.UP
    assert hypervisor.domain_state(vm.host.uri, str(vm.uuid)) == "running"
    assert Event.objects.filter(code="vm.snapshot_created").exists()


def test_a_down_vm_gets_a_disk_only_snapshot_and_snapshots_form_a_tree(vm, admin):
    first, job = snapshot_create(vm=vm, user=admin)
    run(job)
    run(lifecycle.vm_poweroff(vm=Vm.objects.get(), user=admin))
    second, job = snapshot_create(vm=Vm.objects.get(), user=admin, include_memory=False)
    run(job)
    second.refresh_from_db()
    assert (second.has_memory, second.parent_id, Vm.objects.get().status) == (False, first.pk, VmStatus.DOWN)
    assert [(node.snapshot.pk, node.depth) for node in snapshot_tree(vm)] == [(first.pk, 1), (second.pk, 2)]


def test_restore_with_memory_brings_back_the_running_guest_and_disk_only_leaves_it_down(vm, admin):
    with_memory, job = snapshot_create(vm=vm, user=admin)
    run(job)
    run(lifecycle.vm_poweroff(vm=Vm.objects.get(), user=admin))
    disk_only, job = snapshot_create(vm=Vm.objects.get(), user=admin)
    run(job)
    run(lifecycle.vm_start(vm=Vm.objects.get(), user=admin))

    assert run(snapshot_restore(snapshot=VmSnapshot.objects.get(pk=disk_only.pk), user=admin)).status == "succeeded"
    assert (Vm.objects.get().status, hypervisor.domain_state(vm.host.uri, str(vm.uuid))) == (VmStatus.DOWN, "shutoff")
    with pytest.raises(Conflict, match="start the VM first"):
        snapshot_restore(snapshot=VmSnapshot.objects.get(pk=with_memory.pk), user=admin)

    run(lifecycle.vm_start(vm=Vm.objects.get(), user=admin))
    assert run(snapshot_restore(snapshot=VmSnapshot.objects.get(pk=with_memory.pk), user=admin)).status == "succeeded"
    assert Vm.objects.get().status == VmStatus.UP
    assert VmSnapshot.objects.get(pk=with_memory.pk).status == SnapshotStatus.OK
    assert Event.objects.filter(code="vm.snapshot_restored").exists()


def test_delete_removes_it_from_libvirt_and_moves_its_children_up(vm, admin):
    first, job = snapshot_create(vm=vm, user=admin)
    run(job)
    second, job = snapshot_create(vm=Vm.objects.get(), user=admin)
    run(job)
    assert run(snapshot_delete(snapshot=VmSnapshot.objects.get(pk=first.pk), user=admin)).status == "succeeded"
    assert set(libvirt_snapshots(vm)) == {second.name}
    assert VmSnapshot.objects.get().parent_id is None
    assert Vm.objects.get().status == VmStatus.UP


def test_memory_of_a_down_vm_and_a_running_vm_without_memory_are_refused(vm, admin):
    with pytest.raises(InvalidInput, match="must include its memory"):
        snapshot_create(vm=vm, user=admin, include_memory=False)
    run(lifecycle.vm_poweroff(vm=Vm.objects.get(), user=admin))
    with pytest.raises(InvalidInput, match="no memory to save"):
        snapshot_create(vm=Vm.objects.get(), user=admin, include_memory=True)
    assert not VmSnapshot.objects.exists() and Vm.objects.get().status == VmStatus.DOWN


def test_a_snapshot_that_would_not_fit_is_refused_before_anything_is_written(vm, world, admin):
    domain = world["domain"]
    domain.available_bytes = 400 * 1024**2  # less than 512 MiB of memory + the margin
    domain.save()
    needs = r"Storage domain data1 has 400 MiB free; .* needs 768 MiB there \(the VM's 512 MiB of memory"
    with pytest.raises(Conflict, match=needs):
        snapshot_create(vm=vm, user=admin)
    assert not VmSnapshot.objects.exists() and Vm.objects.get().status == VmStatus.UP
    assert libvirt_snapshots(vm) == {}


def test_restore_or_delete_while_another_job_runs_is_refused(vm, admin):
    snapshot, job = snapshot_create(vm=vm, user=admin)
    run(job)
    snapshot.refresh_from_db()
    lifecycle.vm_suspend(vm=Vm.objects.get(), user=admin)  # a job that holds the VM, status unchanged
    with pytest.raises(Conflict, match="busy with another job"):
        snapshot_restore(snapshot=snapshot, user=admin)
    with pytest.raises(Conflict, match="busy with another job"):
        snapshot_delete(snapshot=snapshot, user=admin)
    assert (Vm.objects.get().status, VmSnapshot.objects.get().status) == (VmStatus.UP, SnapshotStatus.OK)


def test_a_failed_snapshot_unlocks_the_vm_and_leaves_no_half_snapshot(vm, admin):
    snapshot, job = snapshot_create(vm=vm, user=admin)
    hypervisor.destroy_domain(vm.host.uri, str(vm.uuid))
    hypervisor.undefine_domain(vm.host.uri, str(vm.uuid))  # gone from its host under the job
    job = run(job)
    assert job.status == "failed" and "not found" in job.error.lower()
    assert not VmSnapshot.objects.exists()
    assert Vm.objects.get().status == VmStatus.DOWN
    assert Event.objects.filter(code="vm.snapshot_create.failed").exists()


def test_a_snapshot_half_made_is_marked_illegal_and_can_be_deleted(vm, admin):
    snapshot, job = snapshot_create(vm=vm, user=admin)
    hypervisor.create_snapshot(vm.host.uri, str(vm.uuid), name=snapshot.name)  # libvirt has it: name taken
    job = run(job)
    assert job.status == "failed"
    assert VmSnapshot.objects.get().status == SnapshotStatus.ILLEGAL
    assert Vm.objects.get().status == VmStatus.UP
    assert Event.objects.filter(code="vm.snapshot_illegal").exists()
    assert run(snapshot_delete(snapshot=VmSnapshot.objects.get(), user=admin)).status == "succeeded"
    assert not VmSnapshot.objects.exists() and libvirt_snapshots(vm) == {}


def test_a_running_vm_locked_by_its_snapshot_still_counts_on_its_host(vm, world, admin):
    host = vm.host_id
    before = vms_commitment("host_id", [host])[host]
    snapshot_create(vm=vm, user=admin)
    assert Vm.objects.get().status == VmStatus.IMAGE_LOCKED
    assert vms_commitment("host_id", [host])[host] == before


def test_a_raw_disk_is_refused_before_anything_is_written(vm, admin):
    vm.disks.update(format="raw")
    with pytest.raises(Conflict, match="Disk 1 of VM web1 is raw: snapshots are kept inside qcow2 disks only"):
        snapshot_create(vm=vm, user=admin)
    assert not VmSnapshot.objects.exists() and Vm.objects.get().status == VmStatus.UP
