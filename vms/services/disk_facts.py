"""What a disk's volume holds, as the SPM host sees it now: virtual size
(what the guest sees), actual size (what the file takes on the storage) and,
for a thin qcow2 disk, its backing chain (a template's disk by name where the
file is one). Read through libvirt for the VM page and the API alike; a host
that cannot answer leaves the figures unknown (None), never an error page."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import hypervisor
from core.errors import PortalError
from hypervisor import HypervisorError
from inventory.services.hosts import host_call
from inventory.choices import HostStatus
from vms.choices import DiskStatus
from vms.models import TemplateDisk, VmDisk

# What disk_facts reads of each disk: select_related these.
DISK_FACTS_RELATED = ("storage_domain__data_center__spm_host",)


@dataclass(frozen=True)
class BackingLink:
    path: str
    format: str
    template_disk: TemplateDisk | None = None  # when the file is a template's disk

    def as_dict(self) -> dict:
        ref = None
        if self.template_disk is not None:
            template = self.template_disk.template
            ref = {"template": template.pk, "template_name": template.name, "disk": self.template_disk.pk,
                   "index": self.template_disk.index}
        return {"path": self.path, "format": self.format, "template_disk": ref}

    def __str__(self) -> str:
        if self.template_disk is not None:
            return f"template {self.template_disk.template.name} disk {self.template_disk.index + 1}"
        return self.path


@dataclass(frozen=True)
class DiskFacts:
    virtual_size_bytes: int | None = None
    actual_size_bytes: int | None = None
    backing_chain: tuple[BackingLink, ...] = field(default_factory=tuple)
    problem: str = ""  # why the figures are unknown


def disk_facts(disks: Iterable[VmDisk]) -> dict[int, DiskFacts]:
    """Facts per disk id, one libvirt look-up per disk on its data center's SPM host."""
    disks = list(disks)
    chains: dict[int, list] = {}
    result: dict[int, DiskFacts] = {}
    for disk in disks:
        if not disk.path or disk.status == DiskStatus.LOCKED:
            result[disk.pk] = DiskFacts(problem="The disk is being made or changed.")
            continue
        # Read only: the SPM as it stands (electing one is the storage jobs' business).
        spm = disk.storage_domain.data_center.spm_host
        if spm is None or spm.status != HostStatus.UP:
            result[disk.pk] = DiskFacts(problem="The data center has no SPM host up to ask.")
            continue
        try:
            chains[disk.pk] = host_call(spm, hypervisor.volume_chain, disk.path)
        except (HypervisorError, PortalError) as error:
            result[disk.pk] = DiskFacts(problem=getattr(error, "message", None) or str(error))
    backing_paths = {volume.path for chain in chains.values() for volume in chain[1:]}
    templates = {t.path: t for t in TemplateDisk.objects.filter(path__in=backing_paths).select_related("template")}
    for disk_id, chain in chains.items():
        top = chain[0]
        result[disk_id] = DiskFacts(
            virtual_size_bytes=top.capacity_bytes, actual_size_bytes=top.allocation_bytes,
            backing_chain=tuple(BackingLink(v.path, v.format, templates.get(v.path)) for v in chain[1:]),
        )
    return result
