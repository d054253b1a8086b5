"""VMs made from a template: which version they come from ("latest": the
newest ready version of the template's family at creation time), the
hardware a template fills in, who still needs a template's disks, and the
disk of a VM made from one.

Thin (a qcow2 overlay whose backing file is the template disk: made at once,
whatever the size) or clone (a standalone copy, qcow2 or preallocated raw);
the default is the optimization profile's (vms.policy.default_provisioning).
vms.services.requests.vm_request_clean asks this module while checking a
creation; the create job (vms.services.lifecycle) makes the volumes through
the SPM host, never through the portal's own file system."""

from __future__ import annotations

from django.db.models import Q, QuerySet

import hypervisor
from inventory.models import Host
from inventory.services.storage import storage_pool_name
from vms.choices import DiskFormat, Provisioning, TemplateStatus
from vms.models import Template, Vm, VmDisk

# What a template gives a VM made from it, where the request leaves it empty.
HARDWARE_FIELDS = ("os_type", "memory_mb", "memory_guaranteed_mb", "cpu_sockets", "cpu_cores", "cpu_threads")


def template_family(template: Template) -> QuerySet[Template]:
    """The base template and all its versions."""
    base = template.base_template or template
    return Template.objects.filter(Q(pk=base.pk) | Q(base_template=base))


def template_latest(template: Template) -> Template | None:
    """The newest ready version of ``template``'s family (None: none is ready)."""
    return template_family(template).filter(status=TemplateStatus.OK).order_by("-version_number").first()


def template_choice_problem(template: Template, data_center_id: int) -> str:
    """Why a VM of that data center cannot be made from ``template`` now ("" when it can)."""
    if template.data_center_id != data_center_id:
        return f"Template {template.name} is in another data center than the VM's cluster."
    if template.status != TemplateStatus.OK:
        return (f"Template {template.name} is {TemplateStatus.label(template.status).lower()}; a VM is made "
                "from a template that is ok.")
    return ""


def thin_vms_using(template: Template) -> QuerySet[Vm]:
    """The thin VMs whose disks have the template's disks as backing files:
    while there is one, the template's disks must stay."""
    return Vm.objects.filter(provisioning=Provisioning.THIN, disks__template_disk__template=template).distinct()


def vms_made_from(template: Template) -> QuerySet[Vm]:
    return Vm.objects.filter(template=template).order_by("name", "pk")


def template_disk_create(disk: VmDisk, spm: Host) -> None:
    """The VM disk's volume from its template disk, on the SPM host: an
    overlay for a thin VM, a full copy (to the disk's format, at its size)
    for a clone."""
    source = disk.template_disk
    pool = storage_pool_name(disk.storage_domain)
    if disk.vm.provisioning == Provisioning.THIN:
        hypervisor.overlay_volume(spm.uri, pool, disk.volume_name, backing_path=source.path,
                                  backing_format=source.format)
    else:
        hypervisor.copy_volume(spm.uri, pool, disk.volume_name, source_path=source.path,
                               format=disk.format or DiskFormat.QCOW2, capacity_bytes=disk.size_gb * 1024**3)
