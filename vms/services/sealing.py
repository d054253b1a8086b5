"""Sealing a template's disks: its own step in the job that makes it.

Whether a template is sealed is chosen when it is made (``seal``; left out,
it follows the OS type, as in oVirt: on for the Linux family, where
virt-sysprep knows what to remove). The seal runs after the copies, on the
SPM host, through hypervisor.seal_volumes, whose ``SEAL_OPERATIONS`` are
what the template's page lists before it runs. Three outcomes:

- sealed: the template keeps virt-sysprep's report of what it did;
- the guest cannot be sealed (no OS virt-sysprep knows, or the host cannot run
  it beside the disks): the copies are kept unsealed and the template says
  why, with a warning event, since VMs made from it share its identity;
- sealing failed otherwise: the exception fails the job, whose failure
  handler removes the copies and puts the VM back down, as for a failed copy.
"""

from __future__ import annotations

import hypervisor
from core.jobs import JobRun
from core.models import Severity
from inventory.models import Host
from inventory.services.hosts import host_call
from vms.choices import OsFamily, SealStatus
from vms.models import OperatingSystem, Template

SEAL_STEP = "Seal"
# What a seal does, for the pages to list before it runs.
SEAL_OPERATIONS = hypervisor.SEAL_OPERATIONS


def seal_by_default(os_type: OperatingSystem) -> bool:
    return os_type.family == OsFamily.LINUX


def seal_status_for(seal: bool | None, os_type: OperatingSystem) -> str:
    """The status a new template starts with: pending when it is to be sealed."""
    wanted = seal_by_default(os_type) if seal is None else seal
    return SealStatus.PENDING if wanted else SealStatus.OFF


def template_seal_step(run: JobRun, template: Template, spm: Host) -> None:
    """The job's seal step, after the template's disks are copied: a no-op
    unless the template is to be sealed (a redelivered job does not seal twice)."""
    if template.seal_status != SealStatus.PENDING:
        return
    paths = [disk.path for disk in template.disks.order_by("index")]
    with run.step(SEAL_STEP):
        try:
            report = host_call(spm, hypervisor.seal_volumes, paths, kvm=spm.kvm,
                               progress=run.step_reporter(SEAL_STEP))
        except hypervisor.CannotSeal as error:
            Template.objects.filter(pk=template.pk).update(
                seal_status=SealStatus.UNSEALED, sealed=False, seal_message=error.message, seal_report=[])
            run.event(code="template.unsealed", severity=Severity.WARNING,
                      message=f"Template {template.name} was copied unsealed: {error.message}")
            return
    Template.objects.filter(pk=template.pk).update(
        seal_status=SealStatus.SEALED, sealed=True, seal_report=list(report.lines),
        seal_message=f"virt-sysprep performed {len(report.operations)} operations in {report.seconds:.0f} s.")
