"""Templates from a VM that is down, against libvirt's test driver: the
service creates the job, the test runs it in-process and looks at libvirt
and the rows afterwards."""

import pytest
from django.core.exceptions import ValidationError

import hypervisor
from core.errors import Conflict
from hypervisor import NotFound
from core.jobs import jobs_fail_orphaned
from core.models import Event, Job, JobStatus
from inventory.services.storage import storage_pool_name
from tests.support.jobs import run_job as run
from tests.vms.test_lifecycle import request, world  # noqa: F401 (the world fixture)
from vms.choices import TemplateStatus, VmStatus
from vms.models import Template, Vm
from vms.services import lifecycle
from vms.services.requests import DiskRequest
from vms.services.templates import template_create_from_vm, template_delete

pytestmark = pytest.mark.django_db


@pytest.fixture
def vm(world, admin):
    """web1 with two disks, defined and down on host1."""
    disks = (DiskRequest(storage_domain=world["domain"], size_gb=1),
             DiskRequest(storage_domain=world["domain"], size_gb=2))
    created, job = lifecycle.vm_create(request=request(world, start=False, disks=disks), user=admin)
    assert run(job).status == "succeeded"
    return Vm.objects.get(pk=created.pk)


def make(vm, user, name="golden", **extra):
    return template_create_from_vm(vm=vm, user=user, name=name, storage_domain=vm.disks.first().storage_domain,
                                   **extra)


def pool_volumes(domain, uri):
    return {volume.name for volume in hypervisor.list_volumes(uri, storage_pool_name(domain))}


def test_a_template_from_a_down_vm_copies_its_disks_and_hardware(vm, admin, world):
    template, job = make(vm, admin, description="base image")
    assert (Vm.objects.get().status, template.status) == (VmStatus.IMAGE_LOCKED, TemplateStatus.LOCKED)
    job = run(job)
    assert job.status == "succeeded"
    assert [step["name"] for step in job.steps] == ["Copy disk 1", "Copy disk 2", "Seal", "Register"]
    template.refresh_from_db()
    assert (template.status, template.version_number, template.base_template, template.created_from_vm) == (
        TemplateStatus.OK, 1, None, vm)
    assert (template.memory_mb, template.os_type, template.nic_models) == (vm.memory_mb, vm.os_type, [""])
    disks = list(template.disks.all())
    assert [(disk.index, disk.size_gb, disk.format, disk.status) for disk in disks] == [
        (0, 1, "qcow2", "ok"), (1, 2, "qcow2", "ok")]
    uri = world["hosts"][0].uri
    assert {disk.volume_name for disk in disks} <= pool_volumes(world["domain"], uri)
    assert all(hypervisor.volume_by_path(uri, disk.path).capacity_bytes == disk.size_gb * 1024**3 for disk in disks)
    assert Vm.objects.get().status == VmStatus.DOWN
    assert Event.objects.filter(code="template.created").exists()


def test_a_running_vm_is_refused_naming_its_status(vm, admin):
    run(lifecycle.vm_start(vm=vm, user=admin))
    with pytest.raises(Conflict, match="is up"):
        make(Vm.objects.get(), admin)
    assert not Template.objects.exists()


def test_the_name_follows_the_vm_rules_and_is_unique_in_the_data_center(vm, admin):
    with pytest.raises(ValidationError, match="'/'"):
        make(vm, admin, name="a/b")
    run(make(vm, admin)[1])
    with pytest.raises(ValidationError, match="already has a template named golden"):
        make(Vm.objects.get(), admin)
    assert Vm.objects.get().status == VmStatus.DOWN


def test_versions_are_numbered_within_their_base(vm, admin):
    base, job = make(vm, admin)
    run(job)
    second, job = make(Vm.objects.get(), admin, name="golden-2", base_template=base, version_name="patched")
    run(job)
    third, job = make(Vm.objects.get(), admin, name="golden-3", base_template=second)
    run(job)
    assert [(t.name, t.base_template_id, t.version_number) for t in Template.objects.order_by("pk")] == [
        ("golden", None, 1), ("golden-2", base.pk, 2), ("golden-3", base.pk, 3)]
    assert Template.objects.get(name="golden-2").version_name == "patched"
    with pytest.raises(Conflict, match="has versions"):
        template_delete(template=Template.objects.get(pk=base.pk), user=admin)


def test_a_failed_copy_puts_the_vm_back_down_and_leaves_no_half_template(vm, admin, world):
    uri = world["hosts"][0].uri
    template, job = make(vm, admin)
    hypervisor.delete_volume(uri, vm.disks.get(index=1).path)  # the second disk is gone under the job
    job = run(job)
    assert job.status == "failed"
    assert not Template.objects.exists()
    assert not any(name.startswith("template-") for name in pool_volumes(world["domain"], uri))
    vm = Vm.objects.get()
    assert vm.status == VmStatus.DOWN and "Making a template failed" in vm.status_reason


def test_not_enough_space_is_refused_before_anything_is_written(vm, admin, world):
    world["domain"].available_bytes = 1024
    world["domain"].save()
    with pytest.raises(Conflict, match="Nothing was written"):
        make(vm, admin)
    assert (Template.objects.count(), Vm.objects.get().status) == (0, VmStatus.DOWN)


def test_delete_removes_its_volumes_then_the_rows_and_waits_while_it_is_locked(vm, admin, world):
    template, job = make(vm, admin)
    with pytest.raises(Conflict, match="locked"):
        template_delete(template=template, user=admin)
    run(job)
    paths = list(Template.objects.get().disks.values_list("path", flat=True))
    assert run(template_delete(template=Template.objects.get(), user=admin)).status == "succeeded"
    assert not Template.objects.exists()
    uri = world["hosts"][0].uri
    for path in paths:
        with pytest.raises(NotFound):
            hypervisor.volume_by_path(uri, path)


def test_a_worker_killed_mid_copy_leaves_the_vm_down_and_no_template(vm, admin, world):
    template, job = make(vm, admin)
    # What the dead worker had done: the first disk copied, the job running.
    uri = world["hosts"][0].uri
    first = template.disks.get(index=0)
    hypervisor.copy_volume(uri, storage_pool_name(world["domain"]), first.volume_name,
                           source_path=vm.disks.get(index=0).path, format="qcow2")
    Job.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, worker="w1@host")
    assert jobs_fail_orphaned(worker="w1@host") == 1
    assert not Template.objects.exists()
    assert first.volume_name not in pool_volumes(world["domain"], uri)
    assert Vm.objects.get().status == VmStatus.DOWN
