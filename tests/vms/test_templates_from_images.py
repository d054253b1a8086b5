"""Templates from an uploaded disk image, against libvirt's test driver: the
image's volume sits in the domain's images pool, the job converts it into the
template's qcow2 volume; the rules and the clean-up are template_create_from_vm's."""

import pytest
from django.core.exceptions import ValidationError

import hypervisor
from core.errors import Conflict
from core.jobs import jobs_fail_orphaned
from core.models import Event, Job
from inventory.choices import ImageContent, ImageStatus
from inventory.models import Image
from inventory.services.images import image_remove
from inventory.services.storage import storage_pool_name
from tests.support.jobs import run_job as run
from tests.vms.test_lifecycle import world  # noqa: F401 (the world fixture)
from vms.choices import TemplateStatus
from vms.models import Template
from vms.services.templates import template_create_from_image

pytestmark = pytest.mark.django_db

MIB = 1024**2


@pytest.fixture(autouse=True)
def images_pool_removed(world):
    """The job makes sure of the domain's images pool; the test driver keeps it across tests."""
    yield
    hypervisor.remove_pool(world["hosts"][0].uri, f"{storage_pool_name(world['domain'])}-images")


def place_image(world, name="cloud", *, format="qcow2", volume_format="qcow2", size=64 * MIB,
                content=ImageContent.DISK):
    """An uploaded image as the upload leaves it: a volume and its row. (In the
    data pool, not the images pool: libvirt's test driver copies only within
    one pool; the real lane copies from the images pool.)"""
    host = world["hosts"][0]
    volume = hypervisor.create_volume(host.uri, storage_pool_name(world["domain"]), f"{name}.img", capacity_bytes=size, format=volume_format)
    return Image.objects.create(name=name, storage_domain=world["domain"], content=content, format=format,
                                status=ImageStatus.OK, path=volume.path, virtual_size_bytes=size,
                                actual_size_bytes=volume.allocation_bytes)


def make(world, image, user, name="cloud-tpl", **extra):
    fields = {"os_type": world["os"], "storage_domain": world["domain"], **extra}
    return template_create_from_image(image=image, user=user, name=name, **fields)


def test_a_template_from_an_image_converts_it_to_qcow2_with_the_os_types_hardware(world, admin):
    image = place_image(world)
    template, job = make(world, image, admin, description="from the cloud")
    assert (template.status, job.target_id, job.title) == (
        TemplateStatus.LOCKED, str(image.pk), "Make template cloud-tpl from image cloud")
    job = run(job)
    assert job.status == "succeeded", job.error
    assert [step["name"] for step in job.steps] == ["Copy disk 1", "Register"]
    template.refresh_from_db()
    os_type = world["os"]
    assert (template.status, template.created_from_image, template.created_from_vm) == (TemplateStatus.OK, image, None)
    assert (template.os_type, template.memory_mb, template.vcpus, template.nic_models) == (
        os_type, os_type.recommended_memory_mb, os_type.recommended_vcpus, [""])
    disk = template.disks.get()
    assert (disk.index, disk.size_gb, disk.format, disk.bootable, disk.interface, disk.status) == (
        0, 1, "qcow2", True, os_type.disk_bus, "ok")
    copy = hypervisor.volume_by_path(world["hosts"][0].uri, disk.path)
    assert (copy.format, copy.capacity_bytes) == ("qcow2", 64 * MIB)  # the image's size, not rounded up
    assert disk.path.startswith(world["domain"].path) and disk.path != image.path
    assert hypervisor.volume_by_path(world["hosts"][0].uri, image.path).format == "qcow2"  # left as it was
    assert Event.objects.filter(code="template.created", message__contains="from image cloud").exists()


def test_the_form_s_hardware_wins_over_the_os_type_s(world, admin):
    template, job = make(world, place_image(world), admin, memory_mb=3072, cpu_sockets=2, cpu_cores=2)
    assert (template.memory_mb, template.cpu_sockets, template.cpu_cores, template.cpu_threads) == (3072, 2, 2, 1)


def test_an_image_libvirt_cannot_read_is_refused_before_anything_is_written(world, admin):
    vhdx = place_image(world, "win", format="vhdx")
    with pytest.raises(ValidationError, match="vhdx image, which libvirt on the hosts cannot read"):
        make(world, vhdx, admin)
    iso = place_image(world, "installer", format="iso", content=ImageContent.ISO)
    with pytest.raises(ValidationError, match="not a ready disk image"):
        make(world, iso, admin)
    assert not Template.objects.exists() and not Job.objects.exists()


def test_an_image_libvirt_reads_otherwise_than_detected_fails_and_leaves_no_half_template(world, admin):
    image = place_image(world, format="vdi")  # the row says vdi, the volume is a qcow2
    template, job = make(world, image, admin)
    job = run(job)
    assert job.status == "failed" and "reads" in job.error and "not vdi" in job.error
    assert not Template.objects.exists()
    uri = world["hosts"][0].uri
    names = {volume.name for volume in hypervisor.list_volumes(uri, storage_pool_name(world["domain"]))}
    assert names == {"cloud.img"}
    failed = Event.objects.get(code="template.create.failed")
    assert failed.target_id == str(image.pk) and "not vdi" in failed.message
    assert Image.objects.get().status == ImageStatus.OK


def test_the_image_cannot_be_removed_while_it_is_copied(world, admin):
    image = place_image(world)
    _template, job = make(world, image, admin)
    with pytest.raises(Conflict, match=f"being copied by job #{job.pk}"):
        image_remove(image=image, user=admin)
    with pytest.raises(Conflict, match="busy with another job"):
        make(world, image, admin, name="second")
    run(job)
    image_remove(image=image, user=admin)
    assert Template.objects.get().created_from_image is None  # the template keeps its own copy


def test_names_versions_and_domains_follow_the_same_rules_as_from_a_vm(world, admin):
    image = place_image(world)
    with pytest.raises(ValidationError, match="'/'"):
        make(world, image, admin, name="a/b")
    base, job = make(world, image, admin)
    run(job)
    with pytest.raises(ValidationError, match="already has a template named cloud-tpl"):
        make(world, image, admin)
    version, job = make(world, image, admin, name="cloud-tpl-2", base_template=base, version_name="v2")
    assert (version.base_template, version.version_number, version.version_name) == (base, 2, "v2")
    run(job)
    world["domain"].available_bytes = 1024
    world["domain"].save()
    with pytest.raises(Conflict, match="the conversion of image cloud need"):
        make(world, image, admin, name="too-big")


def test_too_little_memory_for_the_os_is_refused(world, admin):
    os_type = world["os"]
    os_type.minimum_memory_mb = 1024
    os_type.save()
    with pytest.raises(ValidationError, match="needs at least 1024 MiB"):
        make(world, place_image(world), admin, memory_mb=512)


def test_a_worker_that_died_mid_conversion_leaves_no_template_and_frees_the_image(world, admin):
    image = place_image(world)
    _template, job = make(world, image, admin)
    Job.objects.filter(pk=job.pk).update(status="running", worker="w1")  # claimed, then the worker died
    assert jobs_fail_orphaned(worker="w1") == 1
    assert Job.objects.get(pk=job.pk).status == "failed" and not Template.objects.exists()
    assert "stopped while this job was running" in Event.objects.get(code="template.create.failed").message
    image_remove(image=image, user=admin)  # no longer held by the job
