"""Hosts: adding, monitoring, refreshing, editing and removing them."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

import hypervisor
from core.errors import Conflict
from core.events import event_record
from core.jobs import JobRun, job_create
from core.models import Job, Severity
from core.objects import object_remove, object_update
from core.status import StatusKind, status_change
from inventory.choices import HostStatus
from inventory.models import SPM_DEFAULT_PRIORITY, Host
from inventory.services.fencing import hosts_fence_due
from inventory.services.spm import spm_review

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT_SECONDS = 5.0


def host_call(host: Host, operation, *args, **kwargs):
    """Run a ``hypervisor`` operation on a host, naming the host in any error.

    The connection is checked with a timeout first: opening one to a host that
    drops packets can block for minutes inside libvirt."""
    try:
        hypervisor.check_connection(host.uri, timeout=CONNECT_TIMEOUT_SECONDS)
        return operation(host.uri, *args, **kwargs)
    except hypervisor.HypervisorError as error:
        message = f"Host {host.name}: {error.message}"
        raise type(error)(message, uri=error.uri, transient=error.transient) from error
# A host in these states is managed by an admin action, not by the monitor.
STATES_THE_MONITOR_LEAVES_ALONE = (
    HostStatus.MAINTENANCE,
    HostStatus.PREPARING_FOR_MAINTENANCE,
    HostStatus.INSTALLING,
)


HOST_STATUS = StatusKind(
    type="host", noun="Host", choices=HostStatus,
    severities={HostStatus.UP: Severity.NORMAL}, default_severity=Severity.WARNING,
)


def host_set_status(*, host: Host, status: str, reason: str = "", expected: str | None = None) -> bool:
    """Compare-and-swap the host's status (core.status); a new status also has
    the data center review its SPM. Returns whether the host moved."""
    old = host.status if expected is None else expected
    if not status_change(host, kind=HOST_STATUS, to=status, expected=old, reason=reason):
        return False
    if old != status:
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
    if host_set_status(host=host, status=HostStatus.UP):
        host_came_up(host=host)


def host_cpu_problem(*, host: Host, info: hypervisor.HostInfo) -> str:
    """Why the host cannot run its cluster's CPU model, or "" when it can (or
    the cluster names none, or the driver cannot tell)."""
    wanted = host.cluster.cpu_model
    if not wanted:
        return ""
    usable = hypervisor.usable_cpu_models(host.uri, info.domain_type)
    if usable is None or wanted in usable:
        return ""
    return (
        f"Cluster {host.cluster.name} needs CPU model {wanted}, which this host cannot offer its guests "
        f"({info.domain_type}); it offers {len(usable)} models, e.g. {', '.join(sorted(usable)[:5])}."
    )


def host_came_up(*, host: Host) -> None:
    """A host that (re)joins its data center needs the pools of the storage
    domains attached while it was away, and must have the data center's active
    networks (else it becomes non_operational, saying which)."""
    from inventory.services.network import network_check_host
    from inventory.services.storage import storage_domains_connect_host

    storage_domains_connect_host(host=host)
    network_check_host(host=host)


def hosts_check_all() -> None:
    """The periodic monitor: one unreachable host never stops the others;
    then the hosts lost for too long are fenced."""
    for host in Host.objects.select_related("cluster__data_center"):
        try:
            host_check(host=host)
        except hypervisor.HypervisorError as error:
            logger.info("host %s is not answering: %s", host.name, error.message)
    hosts_fence_due()


# A host being added or emptied for maintenance is held by that work.
STATES_THAT_REFUSE_REFRESH = (HostStatus.INSTALLING, HostStatus.PREPARING_FOR_MAINTENANCE)


def host_refresh(*, host: Host, user=None) -> Job:
    """Re-read a host's facts now (a job: connecting may take seconds)."""
    if host.status in STATES_THAT_REFUSE_REFRESH:
        raise Conflict(f"Host {host.name} is {HostStatus.label(host.status).lower()}; refresh it once that ends.")
    return job_create(
        title=f"Refresh host {host.name}",
        task="host.refresh",
        steps=["Connect", "Read host facts"],
        target=host,
        user=user,
    )


def host_add(
    *, name: str, cluster, uri: str, spm_priority: int = SPM_DEFAULT_PRIORITY, user, **power_fields
) -> tuple[Host, Job]:
    """Add a host (status installing) and start the job that connects to it.
    `power_fields` are the pm_* fields from inventory.services.power.host_power_fields."""
    with transaction.atomic():
        host = Host.objects.create(
            name=name, cluster=cluster, uri=hypervisor.validate_uri(uri), spm_priority=spm_priority,
            status=HostStatus.INSTALLING, **power_fields,
        )
        event_record(code="host.added", target=host, user=user,
                     message=f"Host {host.name} ({host.uri}) was added to cluster {cluster} by {user}.")
        job = job_create(
            title=f"Add host {host.name}", task="host.add", steps=["Connect", "Read host facts"],
            target=host, user=user,
        )
    return host, job


ACTIVATABLE_STATES = (HostStatus.MAINTENANCE, HostStatus.NON_OPERATIONAL)


def host_activate(*, host: Host, user) -> Job:
    """Bring a host back from maintenance: connecting, then up once its facts
    are read again (a job), or non_responsive saying why."""
    with transaction.atomic():
        if host.status not in ACTIVATABLE_STATES or not host_set_status(
            host=host, status=HostStatus.CONNECTING, reason=f"Activated by {user}"
        ):
            raise Conflict(
                f"Host {host.name} is {HostStatus.label(host.status).lower()}; only a host in maintenance "
                "or non operational can be activated."
            )
        return job_create(
            title=f"Activate host {host.name}", task="host.activate", steps=["Connect", "Read host facts"],
            target=host, user=user,
        )


def host_activate_run(run: JobRun) -> None:
    host_refresh_run(run, expected=HostStatus.CONNECTING)


def host_add_run(run: JobRun) -> None:
    host_refresh_run(run, expected=HostStatus.INSTALLING)


def host_connect_failed(run: JobRun, message: str) -> None:
    """A host whose add or activation failed must not stay installing or
    connecting: it is non_responsive, saying why."""
    host = Host.objects.select_related("cluster__data_center").get(pk=run.job.target_id)
    host_set_status(host=host, status=HostStatus.NON_RESPONSIVE, reason=message)


# Moving a host or pointing it elsewhere while it may run VMs would strand them.
FIELDS_CHANGED_ONLY_IN_MAINTENANCE = ("cluster", "uri")


def host_update(*, host: Host, fields: dict, user) -> Host:
    moving = [f for f in FIELDS_CHANGED_ONLY_IN_MAINTENANCE if f in fields and fields[f] != getattr(host, f)]
    if moving and host.status != HostStatus.MAINTENANCE:
        raise Conflict(
            f"Host {host.name} is {HostStatus.label(host.status).lower()}: its {' and '.join(moving)} "
            "can change only in maintenance."
        )
    if "uri" in fields:
        fields["uri"] = hypervisor.validate_uri(fields["uri"])
    return object_update(obj=host, fields=fields, user=user)


# The states in which nothing runs on the host and no job holds it.
REMOVABLE_STATES = (HostStatus.MAINTENANCE, HostStatus.NON_RESPONSIVE, HostStatus.DOWN)


def host_remove(*, host: Host, user) -> None:
    if host.status not in REMOVABLE_STATES:
        raise Conflict(
            f"Host {host.name} is {HostStatus.label(host.status).lower()}: put it in maintenance before removing it."
        )
    data_center = host.cluster.data_center
    object_remove(obj=host, user=user)
    spm_review(data_center=data_center)


def host_refresh_run(run: JobRun, expected: str | None = None) -> None:
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
    problem = host_cpu_problem(host=host, info=info)
    if problem:
        host_set_status(host=host, status=HostStatus.NON_OPERATIONAL, reason=problem, expected=expected)
        return
    host_set_status(host=host, status=HostStatus.UP, expected=expected)
    host_came_up(host=host)
    topology = info.topology
    run.event(code="host.refreshed", message=(
        f"Host {host.name} facts read: {topology.sockets} socket(s) x {topology.cores} core(s) x "
        f"{topology.threads} thread(s), {len(info.numa_cells)} NUMA node(s), {info.memory_mb} MiB, "
        f"guests run {'with KVM' if info.kvm else 'emulated (TCG)'}."
    ))
