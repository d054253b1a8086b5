"""Hypervisor state into the database: libvirt lifecycle events as they
happen (the host watcher hands them here), and a periodic reconcile for what
an event missed. A domain that vanished is marked unknown with an Event, never
deleted; a domain the portal did not create is listed as external."""

from __future__ import annotations

import logging

from django.db import IntegrityError

import hypervisor
from core.events import event_record
from core.models import Job, JobStatus, Severity
from inventory.choices import HostStatus
from inventory.models import Host
from vms.choices import Optimization, VmOrigin, VmStatus
from vms.models import OperatingSystem, Vm
from vms.services.lifecycle import STATUS_OF_STATE, run_once_discard
from vms.services.status import vm_set_status

logger = logging.getLogger(__name__)

# An event moves a VM to this status (None: the event changes nothing).
STATUS_OF_EVENT = {
    "started": VmStatus.UP,
    "resumed": VmStatus.UP,
    "suspended": VmStatus.PAUSED,
    "stopped": VmStatus.DOWN,
    "crashed": VmStatus.DOWN,
    "pmsuspended": VmStatus.SUSPENDED,
}
# While a job holds the VM in these, only the job (or the end of the run) moves it.
# (A migrating VM's domain stops on one host and starts on another: the
# migration job says where it ends up.)
HELD_BY_JOBS = (VmStatus.IMAGE_LOCKED, VmStatus.MIGRATING)
EXTERNAL_OS = "other"


def vm_sync_event(event: hypervisor.DomainEvent) -> None:
    """One lifecycle event of a host (called from the watcher's thread)."""
    vm = Vm.objects.select_related("host").filter(uuid=event.domain_uuid).first()
    if vm is None:
        if event.event == "defined":
            host = Host.objects.select_related("cluster").filter(uri=event.uri).first()
            if host is not None:
                external_vm_add(host=host, summary=hypervisor.domain_summary(host.uri, event.domain_uuid))
        return
    if vm.host is not None and vm.host.uri != event.uri:
        return  # a stale definition on a host the VM has left
    if event.event == "undefined" and vm.status not in HELD_BY_JOBS:
        vm_set_status(vm=vm, status=VmStatus.UNKNOWN, expected=tuple(VmStatus.values()),
                      reason=f"Its domain was removed from {vm.host.name if vm.host else event.uri} outside the portal.")
        return
    status = STATUS_OF_EVENT.get(event.event)
    if status is None or vm.status in HELD_BY_JOBS or vm.status == status:
        return
    _apply(vm, status, why=f"libvirt event {event.event}")


def _apply(vm: Vm, status: str, *, why: str) -> None:
    reason = "The guest crashed." if why.endswith("crashed") else ""
    if vm_set_status(vm=vm, status=status, reason=reason) and status == VmStatus.DOWN:
        run_once_discard(vm=vm)
    logger.debug("VM %s -> %s (%s)", vm.name, status, why)


def vms_reconcile_host(*, host: Host) -> int:
    """Compare what ``host`` runs with the database; returns the VMs changed."""
    domains = {summary.uuid: summary for summary in hypervisor.list_domains(host.uri)}
    changed = 0
    busy = set(
        Job.objects.filter(target_type__model="vm", status__in=JobStatus.ACTIVE).values_list("target_id", flat=True)
    )
    for vm in Vm.objects.filter(host=host).select_related("host"):
        if str(vm.pk) in busy or vm.status in HELD_BY_JOBS:
            continue
        summary = domains.pop(str(vm.uuid), None)
        if summary is None:
            if vm.status != VmStatus.UNKNOWN:
                changed += vm_set_status(
                    vm=vm, status=VmStatus.UNKNOWN,
                    reason=f"Its domain is no longer on {host.name}; it was removed outside the portal.",
                )
            continue
        status = STATUS_OF_STATE[summary.state]
        if status != vm.status:
            _apply(vm, status, why="reconcile")
            changed += 1
    known = {str(uuid) for uuid in Vm.objects.filter(uuid__in=list(domains)).values_list("uuid", flat=True)}
    for uuid, summary in domains.items():
        if uuid not in known:
            changed += external_vm_add(host=host, summary=summary) is not None
    return changed


def vms_reconcile_all() -> None:
    for host in Host.objects.filter(status=HostStatus.UP).select_related("cluster"):
        try:
            vms_reconcile_host(host=host)
        except hypervisor.HypervisorError as error:
            logger.info("could not reconcile VMs of %s: %s", host.name, error.message)


def external_vm_add(*, host: Host, summary: hypervisor.DomainSummary) -> Vm | None:
    """List a domain found on ``host`` that the portal did not create."""
    os_type = OperatingSystem.objects.filter(short_id=EXTERNAL_OS).first()
    if os_type is None:
        return None  # the catalogue is not imported yet; the next reconcile tries again
    uuid, name = summary.uuid, summary.name
    cluster = host.cluster
    taken = Vm.objects.filter(data_center_id=cluster.data_center_id, name=name).exists()
    try:
        vm = Vm.objects.create(
            uuid=uuid, name=f"{name} (external {uuid[:8]})" if taken else name, cluster=cluster,
            data_center_id=cluster.data_center_id, os_type=os_type, optimization=Optimization.SERVER,
            memory_mb=summary.memory_mb, memory_guaranteed_mb=0, cpu_sockets=summary.vcpus, host=host,
            status=STATUS_OF_STATE[summary.state], origin=VmOrigin.EXTERNAL,
        )
    except IntegrityError:
        return None  # listed meanwhile by the other path (event or reconcile)
    event_record(code="vm.external", severity=Severity.WARNING, target=vm,
                 message=f"Found domain {name} on {host.name}, not created by the portal; listed as external.")
    return vm
