"""Business rules of the inventory. Interfaces call these; tasks call these;
only these talk to the hypervisor package."""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import F
from django.utils import timezone

import hypervisor
from core.events import event_record
from core.jobs import JobRun, job_create
from core.models import Job, Severity
from core.updates import publish
from inventory.choices import HostStatus
from inventory.models import SPM_NEVER, Cluster, DataCenter, Host, StorageDomain

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT_SECONDS = 5.0
# A host in these states is managed by an admin action, not by the monitor.
STATES_THE_MONITOR_LEAVES_ALONE = (
    HostStatus.MAINTENANCE,
    HostStatus.PREPARING_FOR_MAINTENANCE,
    HostStatus.INSTALLING,
)


def host_set_status(*, host: Host, status: str, reason: str = "", expected: str | None = None) -> bool:
    """Compare-and-swap the host's status; an Event and a live update follow a
    real change. Returns whether the status changed."""
    old = host.status if expected is None else expected
    if old == status and host.status_reason == reason:
        return False
    changed = Host.objects.filter(pk=host.pk, status=old).update(
        status=status, status_reason=reason, status_changed_at=timezone.now()
    )
    if not changed:
        return False
    host.status, host.status_reason = status, reason
    if old != status:
        severity = Severity.NORMAL if status == HostStatus.UP else Severity.WARNING
        because = f": {reason}" if reason else ""
        event_record(
            code=f"host.{status}",
            message=f"Host {host.name} is now {HostStatus.label(status).lower()} (was {HostStatus.label(old).lower()}){because}",
            severity=severity,
            target=host,
        )
        publish({"type": "host", "id": host.pk, "status": status, "status_reason": reason})
        spm_review(data_center=host.cluster.data_center)
    return True


def host_store_facts(*, host: Host, info: hypervisor.HostInfo) -> None:
    host.hostname = info.hostname
    host.cpu_model = info.cpu_model
    host.cpu_sockets = info.topology.sockets
    host.cpu_cores_per_socket = info.topology.cores
    host.cpu_threads_per_core = info.topology.threads
    host.cpu_total = info.cpu_total
    host.memory_mb = info.memory_mb
    host.numa_nodes = [
        {"index": cell.index, "cpus": list(cell.cpus), "memory_mb": cell.memory_mb}
        for cell in info.numa_cells
    ]
    host.kvm = info.kvm
    host.domain_type = info.domain_type
    host.libvirt_version = info.libvirt_version
    host.qemu_version = info.hypervisor_version
    host.facts_updated_at = host.last_seen_at = timezone.now()
    host.save(update_fields=[
        "hostname", "cpu_model", "cpu_sockets", "cpu_cores_per_socket", "cpu_threads_per_core",
        "cpu_total", "memory_mb", "numa_nodes", "kvm", "domain_type", "libvirt_version",
        "qemu_version", "facts_updated_at", "last_seen_at",
    ])


def host_check(*, host: Host, read_facts: bool = False) -> None:
    """Connect to the host; on success read its facts (when asked or never
    read) and bring it up; on failure mark it non_responsive, saying why."""
    if host.status in STATES_THE_MONITOR_LEAVES_ALONE:
        return
    try:
        hypervisor.check_connection(host.uri, timeout=CONNECT_TIMEOUT_SECONDS)
        if read_facts or host.facts_updated_at is None:
            host_store_facts(host=host, info=hypervisor.read_host_info(host.uri))
        else:
            Host.objects.filter(pk=host.pk).update(last_seen_at=timezone.now())
    except hypervisor.HypervisorError as error:
        host_set_status(host=host, status=HostStatus.NON_RESPONSIVE, reason=error.message)
        raise
    host_set_status(host=host, status=HostStatus.UP)


def hosts_check_all() -> None:
    """The periodic monitor: one unreachable host never stops the others."""
    for host in Host.objects.select_related("cluster__data_center"):
        try:
            host_check(host=host)
        except hypervisor.HypervisorError as error:
            logger.info("host %s is not answering: %s", host.name, error.message)


def host_refresh(*, host: Host, user=None) -> Job:
    """Re-read a host's facts now (a job: connecting may take seconds)."""
    from inventory.tasks import host_refresh_task

    return job_create(
        title=f"Refresh host {host.name}",
        task=host_refresh_task,
        steps=["Connect", "Read host facts"],
        target=host,
        user=user,
    )


def host_refresh_run(run: JobRun) -> None:
    host = Host.objects.select_related("cluster__data_center").get(pk=run.job.target_id)
    with run.step("Connect"):
        try:
            hypervisor.check_connection(host.uri, timeout=CONNECT_TIMEOUT_SECONDS)
        except hypervisor.HypervisorError as error:
            host_set_status(host=host, status=HostStatus.NON_RESPONSIVE, reason=error.message)
            raise
    with run.step("Read host facts"):
        info = hypervisor.read_host_info(host.uri)
        host_store_facts(host=host, info=info)
    host_set_status(host=host, status=HostStatus.UP)
    topology = info.topology
    run.event(code="host.refreshed", message=(
        f"Host {host.name} facts read: {topology.sockets} socket(s) x {topology.cores} core(s) x "
        f"{topology.threads} thread(s), {len(info.numa_cells)} NUMA node(s), {info.memory_mb} MiB, "
        f"guests run {'with KVM' if info.kvm else 'emulated (TCG)'}."
    ))


def spm_review(*, data_center: DataCenter) -> Host | None:
    """Keep one SPM per data center: the up host with the highest priority
    (-1 never). Hand the role over when the SPM host is no longer up."""
    with transaction.atomic():
        data_center = DataCenter.objects.select_for_update().get(pk=data_center.pk)
        current = data_center.spm_host
        if current is not None and current.status == HostStatus.UP:
            return current
        candidate = (
            Host.objects.filter(cluster__data_center=data_center, status=HostStatus.UP)
            .exclude(spm_priority=SPM_NEVER)
            .order_by(F("spm_priority").desc(), "name")
            .first()
        )
        if candidate == current:
            return current
        data_center.spm_host = candidate
        data_center.save(update_fields=["spm_host"])
    if candidate is None:
        event_record(
            code="spm.none", severity=Severity.WARNING, target=data_center,
            message=f"Data center {data_center.name} has no SPM: no eligible host is up.",
        )
    else:
        event_record(
            code="spm.elected", target=data_center,
            message=f"Host {candidate.name} is now the SPM of data center {data_center.name}.",
        )
    return candidate


def demo_seed(*, storage_path: str, host_uri: str = "qemu:///system") -> Host:
    """The demo data center of `make run`: idempotent, so running it twice is
    harmless."""
    hypervisor.validate_uri(host_uri)
    data_center, _ = DataCenter.objects.get_or_create(
        name="Default", defaults={"description": "The default data center"}
    )
    cluster, _ = Cluster.objects.get_or_create(
        name="Default", defaults={"data_center": data_center, "description": "The default cluster"}
    )
    host, created = Host.objects.get_or_create(
        name="localhost", defaults={"cluster": cluster, "uri": host_uri}
    )
    StorageDomain.objects.get_or_create(
        name="local-data", defaults={"data_center": data_center, "path": storage_path}
    )
    if created:
        event_record(code="host.added", target=host, message=f"Host {host.name} ({host_uri}) was added.")
    return host
