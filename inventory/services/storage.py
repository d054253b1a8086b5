"""Storage domains: realised as one libvirt storage pool per host.

A storage domain of a data center becomes, on every up host of that data
center, a pool named ``pt-sd-<domain id>`` over the domain's path (the same path
everywhere): a directory pool for dir and localfs domains (shared storage
mounted at the same place on each host by its admin), a netfs pool for NFS
domains (libvirt mounts ``nfs_server:nfs_export`` at the path on each host).
Storage metadata (attaching, detaching, reading the figures) goes through the
data center's SPM host: without an SPM that is up, nothing is done.

Statuses: unattached -> (attach job: locked) -> active; a failed job or a failed
periodic refresh leaves the domain inactive, from which it can be attached
again. Detaching forgets the pools (destroy + undefine) and never deletes a file.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

import hypervisor
from core.errors import Conflict, InvalidInput, PortalError
from core.events import event_record
from core.jobs import JobRun, job_create
from core.models import Job, Severity
from core.objects import object_remove, object_update
from core.status import StatusKind, status_change
from hypervisor.storage import PoolInfo, PoolSpec, ensure_dir_pool, pool_info, remove_pool
from inventory.choices import HostStatus, StorageDomainStatus, StorageType
from inventory.models import DataCenter, Host, StorageDomain
from inventory.services.attachment import (
    Attachable,
    attachment_lock,
    attachment_locked,
    attachment_unlock_after_failure,
)
from inventory.services.hosts import host_call
from inventory.services.spm import spm_required

logger = logging.getLogger(__name__)

POOL_PREFIX = "pt-sd-"
ATTACHABLE_STATES = (StorageDomainStatus.UNATTACHED, StorageDomainStatus.INACTIVE)
# Inactive too: a domain whose attach or refresh failed must not be stuck attached.
DETACHABLE_STATES = (StorageDomainStatus.ACTIVE, StorageDomainStatus.INACTIVE)
# A local directory or a file system mounted at the same path on every host.
DIRECTORY_STORAGE_TYPES = (StorageType.DIR, StorageType.LOCALFS)
READ_CAPACITY_STEP = "Read capacity"

STORAGE_DOMAIN_STATUS = StatusKind(
    type="storagedomain", noun="Storage domain", choices=StorageDomainStatus,
    severities={StorageDomainStatus.INACTIVE: Severity.WARNING},
)


def storage_pool_name(domain: StorageDomain) -> str:
    """The libvirt pool that realises ``domain`` on each host."""
    return f"{POOL_PREFIX}{domain.pk}"


def storage_images_pool_ensure(*, domain: StorageDomain, host: Host) -> str:
    """A pool over the domain's uploaded images (``<path>/images``) on
    ``host``, so libvirt can copy them into new volumes there. Returns its name."""
    from inventory.services.images import IMAGES_DIR

    spec = PoolSpec(name=f"{storage_pool_name(domain)}-images", path=f"{domain.path.rstrip('/')}/{IMAGES_DIR}")
    ensure_dir_pool(host.uri, spec)
    return spec.name


def storage_pool_spec(domain: StorageDomain) -> PoolSpec:
    """The pool ``domain`` needs, or InvalidInput saying why it cannot have one."""
    if domain.storage_type == StorageType.NFS:
        if not domain.nfs_server or not domain.nfs_export:
            raise InvalidInput(
                f"Storage domain {domain.name} is of type NFS but names no NFS server and export; give both."
            )
        source = {"type": "netfs", "source_host": domain.nfs_server, "source_dir": domain.nfs_export}
    elif domain.storage_type in DIRECTORY_STORAGE_TYPES:
        source = {}
    else:
        raise InvalidInput(
            f"Storage domain {domain.name} is of type {StorageType.label(domain.storage_type)}, which the "
            "portal cannot attach."
        )
    try:
        return PoolSpec(name=storage_pool_name(domain), path=domain.path, **source)
    except hypervisor.InvalidSpec as error:
        raise InvalidInput(f"Storage domain {domain.name}: {error.message}") from error


def storage_domain_where(domain: StorageDomain) -> str:
    """Where the domain's files are, in words: its directory, or its NFS export."""
    if domain.storage_type == StorageType.NFS and domain.nfs_server:
        return f"the NFS export {domain.nfs_server}:{domain.nfs_export} (mounted at {domain.path})"
    return domain.path


def storage_domain_set_status(
    *, domain: StorageDomain, status: str, expected: str, reason: str = "", user=None,
    job: Job | None = None, **fields,
) -> bool:
    """Compare-and-swap the domain's status (and any ``fields`` with it) through
    core.status. Returns whether it changed."""
    return status_change(domain, kind=STORAGE_DOMAIN_STATUS, to=status, expected=expected, reason=reason,
                         user=user, job=job, extra_fields=fields)


def storage_domain_attach(*, domain: StorageDomain, user) -> Job:
    """Lock the domain and start the job that creates its pool on every up host
    of its data center and reads its figures through the SPM."""
    storage_pool_spec(domain)  # refuse a domain that cannot be a pool before locking it
    spm = spm_required(data_center=domain.data_center)
    hosts = _hosts_of(domain.data_center, spm)
    with transaction.atomic():
        attachment_lock(STORAGE_DOMAINS, domain, allowed=ATTACHABLE_STATES, user=user,
                        why=f"attaching it to data center {domain.data_center.name} through SPM host {spm.name}",
                        refusal="only an unattached or inactive storage domain can be attached")
        return job_create(
            title=f"Attach storage domain {domain.name}",
            task="storagedomain.attach",
            steps=[_create_step(host) for host in hosts] + [READ_CAPACITY_STEP],
            target=domain,
            user=user,
        )


def storage_domain_attach_run(run: JobRun) -> None:
    domain = attachment_locked(STORAGE_DOMAINS, run)
    spec = storage_pool_spec(domain)
    spm = spm_required(data_center=domain.data_center)
    for host in _hosts_of(domain.data_center, spm):
        try:
            with run.step(_create_step(host)):
                host_call(host, ensure_dir_pool, spec)
        except hypervisor.HypervisorError as error:
            if host.pk == spm.pk:
                raise  # without the SPM there is no storage domain
            run.event(
                code="storagedomain.host_failed", severity=Severity.WARNING,
                message=f"Storage domain {domain.name} is not available on host {host.name}: {error.message}",
            )
    with run.step(READ_CAPACITY_STEP):
        info = _spm_pool_info(domain, spm)
    storage_domain_set_status(
        domain=domain, status=StorageDomainStatus.ACTIVE, expected=StorageDomainStatus.LOCKED,
        reason=f"{_figures(info)} (read through SPM host {spm.name})",
        user=run.job.user, job=run.job, **_figure_fields(info),
    )


def storage_domain_attach_failed(run: JobRun, message: str) -> None:
    """A failed attach leaves the domain inactive (never locked), saying why."""
    attachment_unlock_after_failure(STORAGE_DOMAINS, run, message)


def storage_domain_detach(*, domain: StorageDomain, user) -> Job:
    """Lock the domain and start the job that removes its pool from every up host
    (the files stay) and leaves it unattached."""
    spm = spm_required(data_center=domain.data_center)
    hosts = _hosts_of(domain.data_center, spm)
    with transaction.atomic():
        attachment_lock(STORAGE_DOMAINS, domain, allowed=DETACHABLE_STATES, user=user,
                        why=f"detaching it from data center {domain.data_center.name}",
                        refusal="only an active or inactive storage domain can be detached")
        return job_create(
            title=f"Detach storage domain {domain.name}",
            task="storagedomain.detach",
            steps=[_remove_step(host) for host in hosts],
            target=domain,
            user=user,
        )


def storage_domain_detach_run(run: JobRun) -> None:
    domain = attachment_locked(STORAGE_DOMAINS, run)
    spm = spm_required(data_center=domain.data_center)
    name = storage_pool_name(domain)
    for host in _hosts_of(domain.data_center, spm):
        try:
            with run.step(_remove_step(host)):
                host_call(host, remove_pool, f"{name}-images")
                host_call(host, remove_pool, name)
        except hypervisor.HypervisorError as error:
            if host.pk == spm.pk:
                raise
            run.event(
                code="storagedomain.host_failed", severity=Severity.WARNING,
                message=(f"The storage pool of {domain.name} could not be removed from host {host.name} "
                         f"(it stays defined there; its files are untouched): {error.message}"),
            )
    storage_domain_set_status(
        domain=domain, status=StorageDomainStatus.UNATTACHED, expected=StorageDomainStatus.LOCKED,
        reason=(f"detached from data center {domain.data_center.name}; "
                f"the files in {storage_domain_where(domain)} are kept"),
        user=run.job.user, job=run.job,
        capacity_bytes=None, allocated_bytes=None, available_bytes=None, refreshed_at=None,
    )


def storage_domain_detach_failed(run: JobRun, message: str) -> None:
    attachment_unlock_after_failure(STORAGE_DOMAINS, run, message)


def storage_domain_refresh(*, domain: StorageDomain) -> PoolInfo:
    """Re-read an active domain's figures through its data center's SPM.
    Raises (Conflict, HypervisorError) when they cannot be read."""
    spm = spm_required(data_center=domain.data_center)
    info = _spm_pool_info(domain, spm)
    fields = _figure_fields(info)
    # Only an active domain: one locked by a job meanwhile is that job's business.
    if StorageDomain.objects.filter(pk=domain.pk, status=StorageDomainStatus.ACTIVE).update(**fields):
        for name, value in fields.items():
            setattr(domain, name, value)
    return info


def storage_domains_refresh_all() -> None:
    """The periodic refresh: one failing domain never stops the others; a
    domain whose figures cannot be read becomes inactive, saying why."""
    for domain in StorageDomain.objects.filter(status=StorageDomainStatus.ACTIVE).select_related("data_center"):
        try:
            storage_domain_refresh(domain=domain)
        except (hypervisor.HypervisorError, PortalError) as error:
            message = error.detail if isinstance(error, PortalError) else error.message
            logger.info("storage domain %s cannot be refreshed: %s", domain.name, message)
            storage_domain_set_status(
                domain=domain, status=StorageDomainStatus.INACTIVE, expected=StorageDomainStatus.ACTIVE,
                reason=message,
            )


def storage_domains_connect_host(*, host: Host) -> int:
    """Create the pools of every active domain of the host's data center on
    this host (for a host that comes up after the domains were attached).
    A failure is a warning Event, not an exception. Returns how many pools
    are in place."""
    connected = 0
    domains = StorageDomain.objects.filter(
        data_center=host.cluster.data_center_id, status=StorageDomainStatus.ACTIVE
    )
    for domain in domains:
        try:
            host_call(host, ensure_dir_pool, storage_pool_spec(domain))
            connected += 1
        except (hypervisor.HypervisorError, PortalError) as error:
            message = error.detail if isinstance(error, PortalError) else error.message
            event_record(
                code="storagedomain.host_failed", severity=Severity.WARNING, target=domain,
                message=f"Storage domain {domain.name} is not available on host {host.name}: {message}",
            )
    return connected


def _create_step(host: Host) -> str:
    return f"Create storage pool on {host.name}"


def _remove_step(host: Host) -> str:
    return f"Remove storage pool from {host.name}"



def _hosts_of(data_center: DataCenter, spm: Host) -> list[Host]:
    """Every up host of the data center, the SPM first."""
    hosts = Host.objects.filter(cluster__data_center=data_center, status=HostStatus.UP).order_by("name")
    return [spm, *(host for host in hosts if host.pk != spm.pk)]


STORAGE_DOMAINS = Attachable(
    model=StorageDomain, noun="Storage domain",
    set_status=lambda domain, **change: storage_domain_set_status(domain=domain, **change),
)



def _spm_pool_info(domain: StorageDomain, spm: Host) -> PoolInfo:
    info = host_call(spm, pool_info, storage_pool_name(domain))
    if info.state != "running":
        raise Conflict(
            f"The storage pool of {domain.name} on SPM host {spm.name} is {info.state}, not running."
        )
    return info


def _figure_fields(info: PoolInfo) -> dict:
    return {
        "capacity_bytes": info.capacity_bytes,
        "allocated_bytes": info.allocation_bytes,
        "available_bytes": info.available_bytes,
        "refreshed_at": timezone.now(),
    }


def _figures(info: PoolInfo) -> str:
    gib = 1024**3
    return (
        f"{info.capacity_bytes / gib:.1f} GiB capacity, {info.allocation_bytes / gib:.1f} GiB allocated, "
        f"{info.available_bytes / gib:.1f} GiB available"
    )


# Changing these while pools exist on the hosts would strand the pools.
FIELDS_CHANGED_ONLY_UNATTACHED = ("path", "data_center", "storage_type", "nfs_server", "nfs_export")


def _require_unattached(domain: StorageDomain, what: str) -> None:
    if domain.status != StorageDomainStatus.UNATTACHED:
        raise Conflict(
            f"Storage domain {domain.name} is {StorageDomainStatus.label(domain.status).lower()}: "
            f"detach it before {what}."
        )


def storage_domain_update(*, domain: StorageDomain, fields: dict, user) -> StorageDomain:
    moving = [f for f in FIELDS_CHANGED_ONLY_UNATTACHED if f in fields and fields[f] != getattr(domain, f)]
    if moving:
        words = " and ".join(f.replace("_", " ").replace("nfs", "NFS") for f in moving)
        _require_unattached(domain, f"changing its {words}")
    return object_update(obj=domain, fields=fields, user=user)


def storage_domain_remove(*, domain: StorageDomain, user) -> None:
    _require_unattached(domain, "removing it")
    object_remove(obj=domain, user=user)
