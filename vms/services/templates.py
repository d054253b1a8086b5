"""Templates made from a VM that is down or from an uploaded disk image, and
their removal, each as a job.

Making one claims the VM into image_locked and creates the template (locked),
its disks' rows and the job in one transaction; the job copies each disk of
the VM, through the data center's SPM host, into a standalone qcow2 volume on
the chosen storage domain (libvirt flattens any backing chain), seals the
copies when asked to (vms.services.sealing), then marks the template ok and
puts the VM back down. A failed job (or one whose worker
died: core.jobs.jobs_fail_orphaned runs the same handler) removes the copies
it made and the template's rows, or marks the template illegal when a copy
cannot be removed, and always puts the VM back down with an event saying why.
From an image, the same job converts the image (qcow2, raw, vmdk, vdi, vpc:
the format detected at upload, which libvirt must read it as) into the
template's qcow2 disk; the image is the job's target, which keeps it from
being removed meanwhile, and is never written.

Who may do what, in this one place: a template is an inventory-like object.
Seeing one takes "view" on it (or system-wide); making one takes "create"
system-wide or on the VM's data center or cluster, and seeing the VM
(vms.permissions "view"), or, from an image, "create" system-wide or on the
image's data center and seeing the image; deleting one takes "delete" on it (or system-wide).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import transaction
from django.db.models import Max, QuerySet

import hypervisor
from core.errors import Conflict
from core.events import event_record
from core.jobs import JobRun, job_create
from core.models import Job, Severity
from core.permissions import has_permission, restrict
from hypervisor import HypervisorError
from inventory.choices import StorageDomainStatus, StorageDomainType
from inventory.models import DataCenter, Image, StorageDomain
from inventory.services.hosts import host_call
from inventory.services.images import image_copy_problem
from inventory.services.spm import spm_required
from inventory.services.storage import storage_images_pool_ensure, storage_pool_name
from vms.choices import DiskFormat, SealStatus, TemplateStatus, VmStatus
from vms.models import OperatingSystem, Template, TemplateDisk, Vm, vcpu_count
from vms.permissions import vm_may
from vms.services.from_template import thin_vms_using
from vms.services.requests import name_problem
from vms.services.sealing import SEAL_STEP, seal_status_for, template_seal_step
from vms.services.status import vm_claim, vm_set_status

MIB = 1024**2
GIB = 1024**3
# A qcow2 copy holds what the source holds plus its metadata: keep this much besides.
SPACE_MARGIN_BYTES = 256 * MIB
# The VM statuses from which a template may be made; the VM page shows its button by them.
TEMPLATE_FROM = (VmStatus.DOWN,)
DELETABLE = (TemplateStatus.OK, TemplateStatus.ILLEGAL)


# ---- permissions and reads ----------------------------------------------------

def templates_visible_to(user) -> QuerySet[Template]:
    return restrict(Template.objects.all(), user).select_related("data_center", "os_type", "base_template")


def template_may_create(user, vm: Vm) -> bool:
    return vm_may(user, "view", vm) and any(
        has_permission(user, "create", place) for place in (None, vm.data_center, vm.cluster)
    )


def template_may_create_from_image(user, image: Image) -> bool:
    """Seeing the image (the caller found it among those the user sees) and
    "create" system-wide or on the image's data center."""
    return any(has_permission(user, "create", place) for place in (None, image.storage_domain.data_center))


def template_may_delete(user, template: Template) -> bool:
    return has_permission(user, "delete", template)


# ---- create -------------------------------------------------------------------
#
# Two sources, one way: template_create_from_vm and template_create_from_image
# check the name, the base template and the storage domain with the same
# functions, then _template_start writes the template (locked), its disks'
# rows and the job; template_create_run copies each disk from where its
# source is (_sources), registers the template and releases the source;
# template_create_failed removes what was made and releases the source.

# What a template made from an image has when the form leaves it out; the
# memory and vCPUs default to the OS type's recommended values.
IMAGE_TEMPLATE_NICS = [""]  # one NIC of the OS type's model: a cloud image expects a network


def template_create_from_vm(*, vm: Vm, user, name: str, description: str = "", storage_domain: StorageDomain,
                            base_template: Template | None = None, version_name: str = "",
                            seal: bool | None = None) -> tuple[Template, Job]:
    """Make a template of the VM, which must be down (409 otherwise, naming
    its status). Refused before anything is written when the name is taken
    or malformed, or the storage domain cannot hold the copies. ``seal``
    None: as the OS type's family says (vms.services.sealing)."""
    if vm.status not in TEMPLATE_FROM:
        raise Conflict(f"VM {vm.name} is {VmStatus.label(vm.status).lower()}: a template is made from a VM that "
                       "is down. Shut it down first.")
    _check_name(vm.data_center, name, base_template, source=f"VM {vm.name}")
    disks = list(vm.disks.select_related("storage_domain").order_by("index"))
    if not disks:
        raise Conflict(f"VM {vm.name} has no disks to make a template of.")
    _check_domain(vm.data_center, storage_domain, needed=sum(_held_bytes(vm, disk) for disk in disks),
                  what=f"the copies of VM {vm.name}'s disks")
    with transaction.atomic():
        vm_claim(vm=vm, to=VmStatus.IMAGE_LOCKED, allowed=TEMPLATE_FROM, action="become a template", user=user)
        return _template_start(
            source=vm, user=user, storage_domain=storage_domain, base_template=base_template,
            fields=dict(name=name, description=description, data_center=vm.data_center, os_type=vm.os_type,
                        memory_mb=vm.memory_mb, memory_guaranteed_mb=vm.memory_guaranteed_mb,
                        cpu_sockets=vm.cpu_sockets, cpu_cores=vm.cpu_cores, cpu_threads=vm.cpu_threads,
                        optimization=vm.optimization, console=vm.console,
                        nic_models=list(vm.nics.order_by("index").values_list("model", flat=True)),
                        created_from_vm=vm, version_name=version_name,
                        seal_status=seal_status_for(seal, vm.os_type)),
            disks=[dict(index=disk.index, size_gb=disk.size_gb, interface=disk.interface, bootable=disk.bootable)
                   for disk in disks],
        )


def template_create_from_image(
    *, image: Image, user, name: str, os_type: OperatingSystem, storage_domain: StorageDomain,
    description: str = "", memory_mb: int | None = None, cpu_sockets: int | None = None,
    cpu_cores: int | None = None, cpu_threads: int | None = None, base_template: Template | None = None,
    version_name: str = "", seal: bool | None = None,
) -> tuple[Template, Job]:
    """Make a template of an uploaded disk image: its one disk is the image
    converted to qcow2 (by libvirt, through the SPM host) on ``storage_domain``,
    which must be in the data center of the image's storage domain. An image
    has no hardware: the OS type is given, the memory and vCPUs default to the
    OS type's recommended values. The image is left as it was; it cannot be
    removed while the job copies it (the job's target is the image). The copy
    is sealed only when ``seal`` asks: an uploaded image is taken as it is
    (cloud images come sealed)."""
    problem = image_copy_problem(image)
    if problem:
        raise ValidationError({"image": problem})
    data_center = image.storage_domain.data_center
    if data_center is None:
        raise ValidationError({"image": f"Image {image.name} is on storage domain {image.storage_domain.name}, "
                                        "which is in no data center: no host can copy it."})
    _check_name(data_center, name, base_template, source=f"image {image.name}")
    memory_mb = memory_mb or os_type.recommended_memory_mb
    if memory_mb < os_type.minimum_memory_mb:
        raise ValidationError({"memory_mb": f"{os_type.name} needs at least {os_type.minimum_memory_mb} MiB, "
                                            f"not {memory_mb}."})
    sockets, cores, threads = cpu_sockets or 1, cpu_cores or (os_type.recommended_vcpus or 1), cpu_threads or 1
    if vcpu_count(sockets, cores, threads) < os_type.minimum_vcpus:
        raise ValidationError({"cpu_cores": f"{os_type.name} needs at least {os_type.minimum_vcpus} vCPUs."})
    virtual = image.virtual_size_bytes or 0
    _check_domain(data_center, storage_domain, needed=image.actual_size_bytes or virtual,
                  what=f"the conversion of image {image.name}")
    with transaction.atomic():
        return _template_start(
            source=image, user=user, storage_domain=storage_domain, base_template=base_template,
            fields=dict(name=name, description=description, data_center=data_center, os_type=os_type,
                        memory_mb=memory_mb, cpu_sockets=sockets, cpu_cores=cores, cpu_threads=threads,
                        nic_models=list(IMAGE_TEMPLATE_NICS), created_from_image=image, version_name=version_name,
                        seal_status=SealStatus.PENDING if seal else SealStatus.OFF),
            disks=[dict(index=0, size_gb=max(1, math.ceil(virtual / GIB)), interface=os_type.disk_bus,
                        bootable=True)],
        )


def _template_start(*, source: Vm | Image, user, storage_domain: StorageDomain, base_template: Template | None,
                    fields: dict, disks: list[dict]) -> tuple[Template, Job]:
    """The template (locked), its disks' rows (each to become a qcow2 volume
    on ``storage_domain``) and the job that makes them, whose target is the
    source: a second job on the same source is refused while this one runs."""
    if base_template is None:
        fields["version_name"] = ""
    template = Template.objects.create(**fields, base_template=_base_of(base_template),
                                       version_number=_next_version(base_template), created_by=user)
    for disk in disks:
        TemplateDisk.objects.create(template=template, format=DiskFormat.QCOW2, storage_domain=storage_domain,
                                    volume_name=f"template-{template.pk}-disk{disk['index']}.qcow2", **disk)
    sealing = [SEAL_STEP] if template.seal_status == SealStatus.PENDING else []
    steps = [f"Copy disk {disk['index'] + 1}" for disk in disks] + sealing + ["Register"]
    kind = "VM" if isinstance(source, Vm) else "image"
    job = job_create(title=f"Make template {template.name} from {kind} {source.name}", task="template.create",
                     steps=steps, target=source, user=user, task_args=(template.pk,))
    return template, job


def _base_of(base_template: Template | None) -> Template | None:
    """Versions hang from the base, never from another version."""
    if base_template is None:
        return None
    return base_template.base_template or base_template


def _next_version(base_template: Template | None) -> int:
    base = _base_of(base_template)
    if base is None:
        return 1
    highest = base.versions.aggregate(highest=Max("version_number"))["highest"]
    return max(highest or 1, base.version_number) + 1


def _check_name(data_center: DataCenter, name: str, base_template: Template | None, *, source: str) -> None:
    problem = name_problem(name, noun="template")
    if not problem and Template.objects.filter(data_center=data_center, name=name).exists():
        problem = f"Data center {data_center.name} already has a template named {name}."
    if problem:
        raise ValidationError({"name": problem})
    if base_template is not None and base_template.data_center_id != data_center.pk:
        raise ValidationError({"base_template": f"Template {base_template.name} is in another data center "
                                                f"than {source}."})


def _check_domain(data_center: DataCenter, domain: StorageDomain, *, needed: int, what: str) -> None:
    """``domain`` must be an active data domain of ``data_center`` with room
    for ``needed`` bytes (plus a margin) of ``what``."""
    if domain.data_center_id != data_center.pk:
        problem = f"Storage domain {domain.name} is not in data center {data_center.name}."
    elif domain.domain_type != StorageDomainType.DATA:
        problem = f"Storage domain {domain.name} is not a data domain."
    elif domain.status != StorageDomainStatus.ACTIVE:
        problem = (f"Storage domain {domain.name} is {StorageDomainStatus.label(domain.status).lower()}; "
                   "attach it first.")
    else:
        problem = ""
    if problem:
        raise ValidationError({"storage_domain": problem})
    needed += SPACE_MARGIN_BYTES
    if domain.available_bytes is not None and domain.available_bytes < needed:
        raise Conflict(f"Storage domain {domain.name} has {domain.available_bytes // MIB} MiB free; {what} "
                       f"need {needed // MIB} MiB there. Nothing was written: choose another storage domain "
                       "or free space there first.")


def _held_bytes(vm: Vm, disk) -> int:
    """What the copy of ``disk`` will hold: what its file holds on the SPM
    host now, or its whole size when the host cannot say."""
    try:
        return host_call(spm_required(data_center=vm.data_center), hypervisor.volume_by_path,
                         disk.path).allocation_bytes
    except HypervisorError:
        return disk.size_gb * GIB


@dataclass(frozen=True)
class _DiskSource:
    path: str
    format: str  # what the file is known to be: libvirt must read it so (copy_volume's source_format)


def _sources(source: Vm | Image) -> dict[int, _DiskSource]:
    """Where each of the template's disks is copied from, by index."""
    if isinstance(source, Image):
        return {0: _DiskSource(source.path, source.format)}
    return {disk.index: _DiskSource(disk.path, disk.format) for disk in source.disks.all()}


def _source_label(source: Vm | Image) -> str:
    return f"{'VM' if isinstance(source, Vm) else 'image'} {source.name}"


def template_create_run(run: JobRun, template_id: int) -> None:
    template = Template.objects.select_related("data_center").get(pk=template_id)
    source = run.target
    sources = _sources(source)
    spm = spm_required(data_center=template.data_center)
    if isinstance(source, Image):
        storage_images_pool_ensure(domain=source.storage_domain, host=spm)  # libvirt copies from a pool's volume
    for disk in template.disks.select_related("storage_domain"):
        step = f"Copy disk {disk.index + 1}"
        with run.step(step):
            if disk.status != TemplateStatus.OK:  # a redelivered job skips what it copied
                info = host_call(spm, hypervisor.copy_volume, storage_pool_name(disk.storage_domain),
                                 disk.volume_name, source_path=sources[disk.index].path, format=DiskFormat.QCOW2,
                                 source_format=sources[disk.index].format, progress=run.step_reporter(step))
                TemplateDisk.objects.filter(pk=disk.pk).update(path=info.path, status=TemplateStatus.OK)
    template_seal_step(run, template, spm)
    with run.step("Register"):
        Template.objects.filter(pk=template.pk).update(status=TemplateStatus.OK)
        if isinstance(source, Vm):
            vm_set_status(vm=source, status=VmStatus.DOWN, expected=VmStatus.IMAGE_LOCKED, user=run.job.user)
    run.event(code="template.created", message=f"Template {template.name} was made from {_source_label(source)}.")


def template_create_failed(run: JobRun, message: str) -> None:
    """Remove what the job copied and the template's rows (illegal instead
    when a copy cannot be removed); a VM goes back down saying why (an image
    was only read; the job's failure event, on the image, says why)."""
    (template_id,) = run.job.args
    template = Template.objects.filter(pk=template_id).first()
    outcome = "nothing of it was kept"
    if template is not None:
        if _remove_volumes(template):
            template.delete()
        else:
            Template.objects.filter(pk=template.pk).update(status=TemplateStatus.ILLEGAL)
            outcome = f"template {template.name} is marked illegal: delete it to clean up its copies"
    try:
        source = run.target
    except ObjectDoesNotExist:
        return  # the VM was deleted meanwhile: nothing left to release
    if isinstance(source, Vm):
        vm_set_status(vm=source, status=VmStatus.DOWN, expected=VmStatus.IMAGE_LOCKED, user=run.job.user,
                      reason=f"Making a template failed ({outcome}): {message}")


def _remove_volumes(template: Template) -> bool:
    """Delete the copies the template's disks have (or may have) on the
    storage; whether all of them are gone."""
    try:
        spm = spm_required(data_center=template.data_center)
        for disk in template.disks.select_related("storage_domain"):
            host_call(spm, hypervisor.delete_volume, disk.path or _planned_path(disk))
    except (HypervisorError, Conflict):
        return False
    return True


def _planned_path(disk: TemplateDisk) -> str:
    """Where copy_volume puts the volume: a half-made one has no path on its row yet."""
    return os.path.join(disk.storage_domain.path, disk.volume_name)


# ---- delete -------------------------------------------------------------------

def template_delete(*, template: Template, user) -> Job:
    """Remove the template's volumes through the SPM host, then its rows.
    409 while a job works on it, or while versions hang from it."""
    if template.versions.exists():
        names = ", ".join(template.versions.values_list("name", flat=True))
        raise Conflict(f"Template {template.name} has versions ({names}): delete them first.")
    with transaction.atomic():
        if not Template.objects.filter(pk=template.pk, status__in=DELETABLE).update(status=TemplateStatus.LOCKED):
            template.refresh_from_db(fields=["status"])
            raise Conflict(f"Template {template.name} is {TemplateStatus.label(template.status).lower()}; "
                           "it cannot be deleted now.")
        # Checked with the template locked, so no thin VM is made from it meanwhile.
        thin = template_thin_users_refusal(template)
        if thin is not None:
            raise thin
        return job_create(title=f"Delete template {template.name}", task="template.delete",
                          steps=["Remove the disks"], target=template, user=user)


def template_thin_users_refusal(template: Template) -> Conflict | None:
    """The 409 a deletion gets while thin VMs still read the template's disks
    (their disks' backing files), listing them; None when there are none."""
    users = list(thin_vms_using(template).values("id", "name"))
    if not users:
        return None
    names = ", ".join(vm["name"] for vm in users)
    return Conflict(f"Template {template.name} is the backing of thin VMs ({names}): delete them first, "
                    "or keep the template.", vms=users)


def template_delete_run(run: JobRun) -> None:
    template = Template.objects.select_related("data_center").get(pk=run.job.target_id)
    with run.step("Remove the disks"):
        spm = spm_required(data_center=template.data_center)
        for disk in template.disks.select_related("storage_domain"):
            host_call(spm, hypervisor.delete_volume, disk.path or _planned_path(disk))
    run.event(code="template.deleted", message=f"Template {template.name} and its disks were deleted.")
    template.delete()


def template_delete_failed(run: JobRun, message: str) -> None:
    """The template keeps the disks it may still have: illegal, to be deleted again."""
    Template.objects.filter(pk=run.job.target_id).update(status=TemplateStatus.ILLEGAL)
    template = Template.objects.filter(pk=run.job.target_id).first()
    if template is not None:
        event_record(code="template.illegal", severity=Severity.WARNING, target=template, job=run.job,
                     user=run.job.user, message=f"Template {template.name} may have lost some of its disks and "
                                                f"is marked illegal; delete it again. {message}")
