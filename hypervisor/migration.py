"""Live migration of a running domain from one host to another.

Peer to peer: the source host's libvirtd connects to the destination's itself
(at the destination URI, as the source sees it) and QEMU streams the memory
between them; this machine only starts it, watches and steers. The domain ends
defined on the destination (PERSIST_DEST) and gone from the source
(UNDEFINE_SOURCE), or, when anything fails, still running on the source
(ABORT_ON_ERROR): a failed migration never loses the guest.

The steering is oVirt's convergence schedule: the allowed downtime starts low
and is raised step by step each time the copy stalls (the remaining data stops
shrinking for ``stall_seconds``), and when the last step does not help either,
the policy's last resort runs: abort, switch to post-copy, or accept a long
pause. Which ladder a VM gets is policy (the vms app), not ours.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import libvirt

from hypervisor.domains import _lookup
from hypervisor.errors import HypervisorError, InvalidSpec, libvirt_errors
from hypervisor.watching import run_watched

WATCH_SECONDS = 0.5


class LastResort:
    ABORT = "abort"  # give up: the VM stays on the source
    POST_COPY = "post_copy"  # run on the destination, fetching the rest on demand
    LONG_DOWNTIME = "long_downtime"  # allow the final step's downtime, however long


@dataclass(frozen=True, slots=True, kw_only=True)
class MigrationOptions:
    downtime_ladder_ms: tuple[int, ...] = (100, 150, 200, 300, 400, 500)
    last_resort: str = LastResort.ABORT
    final_downtime_ms: int = 5000  # LONG_DOWNTIME's
    bandwidth_mib_s: int | None = None  # None: unlimited (QEMU's default)
    auto_converge: bool = False  # throttle the guest's vCPUs when it dirties memory faster than we copy
    stall_seconds: float = 3.0
    # libvirt 9.0 sees a directory mounted on every host as local and refuses
    # the migration unless told it is safe; NFS and other shared file systems
    # it recognises itself.
    unsafe_shared_directory: bool = False

    def __post_init__(self) -> None:
        if not self.downtime_ladder_ms or any(step <= 0 for step in self.downtime_ladder_ms):
            raise InvalidSpec("A downtime ladder needs at least one positive step (ms).")
        if self.last_resort not in (LastResort.ABORT, LastResort.POST_COPY, LastResort.LONG_DOWNTIME):
            raise InvalidSpec(f"Unknown last resort {self.last_resort!r}.")
        if self.bandwidth_mib_s is not None and self.bandwidth_mib_s <= 0:
            raise InvalidSpec("A migration bandwidth must be positive (MiB/s), or None for unlimited.")


@dataclass(frozen=True, slots=True)
class MigrationProgress:
    data_total: int  # bytes: memory (and whatever else QEMU sends)
    data_processed: int
    data_remaining: int
    bytes_per_second: int


@dataclass(frozen=True, slots=True)
class MigrationResult:
    total_ms: int
    downtime_ms: int | None  # QEMU's measure of the guest's pause; None when not reported
    data_bytes: int
    steps_taken: int  # how far up the ladder it went (0: its first downtime sufficed)
    last_resort_used: bool


class MigrationAborted(HypervisorError):
    """Stopped on purpose (cancelled, or the policy gave up); the VM runs on the source."""


def migrate_domain(
    uri: str, uuid: str, *, dest_uri: str, options: MigrationOptions,
    progress: Callable[[MigrationProgress], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> MigrationResult:
    """Live-migrate the running domain ``uuid`` from ``uri`` to ``dest_uri``.

    ``progress`` is called every WATCH_SECONDS with libvirt's job figures;
    ``cancelled`` is asked as often, and a True aborts the migration
    (MigrationAborted; the VM stays where it was)."""
    domain = _lookup(uri, uuid)
    flags = (libvirt.VIR_MIGRATE_LIVE | libvirt.VIR_MIGRATE_PEER2PEER | libvirt.VIR_MIGRATE_PERSIST_DEST
             | libvirt.VIR_MIGRATE_UNDEFINE_SOURCE | libvirt.VIR_MIGRATE_ABORT_ON_ERROR)
    if options.unsafe_shared_directory:
        flags |= libvirt.VIR_MIGRATE_UNSAFE
    if options.auto_converge:
        flags |= libvirt.VIR_MIGRATE_AUTO_CONVERGE
    if options.last_resort == LastResort.POST_COPY:
        flags |= libvirt.VIR_MIGRATE_POSTCOPY  # allowed; switched to only when the ladder is exhausted
    params: dict[str, object] = {}
    if options.bandwidth_mib_s is not None:
        params[libvirt.VIR_MIGRATE_PARAM_BANDWIDTH] = options.bandwidth_mib_s
    steering = _Steering(domain, options, progress, cancelled)
    with libvirt_errors(uri):
        domain.migrateSetMaxDowntime(options.downtime_ladder_ms[0], 0)
    started = time.monotonic()
    with libvirt_errors(uri):
        try:
            run_watched(lambda: domain.migrateToURI3(dest_uri, params, flags), steering.watch,
                        every=WATCH_SECONDS, name=f"migrate {uuid}")
        except libvirt.libvirtError:
            if steering.aborted_because:
                raise MigrationAborted(steering.aborted_because, uri=uri) from None
            raise
    total_ms = int((time.monotonic() - started) * 1000)
    return MigrationResult(total_ms, *_completed_figures(dest_uri, uuid), steering.step,
                           steering.last_resort_used)


def abort_migration(uri: str, uuid: str) -> None:
    """Stop a migration in progress (from another worker than the one running it)."""
    with libvirt_errors(uri):
        _lookup(uri, uuid).abortJob()


class _Steering:
    """What the watching thread does every WATCH_SECONDS."""

    def __init__(self, domain: libvirt.virDomain, options: MigrationOptions, progress, cancelled):
        self.domain, self.options, self.progress, self.cancelled = domain, options, progress, cancelled
        self.step = 0
        self.best_remaining: int | None = None
        self.improved_at = time.monotonic()
        self.aborted_because = ""
        self.last_resort_used = False

    def watch(self) -> None:
        if self.aborted_because:
            return
        try:
            stats = self.domain.jobStats()
        except libvirt.libvirtError:
            return  # the job is ending; migrateToURI3 tells how
        if stats.get("type", libvirt.VIR_DOMAIN_JOB_NONE) == libvirt.VIR_DOMAIN_JOB_NONE:
            return  # not started yet, or done
        figures = MigrationProgress(stats.get("data_total", 0), stats.get("data_processed", 0),
                                    stats.get("data_remaining", 0), stats.get("memory_bps", 0))
        if self.progress is not None:
            self.progress(figures)
        if self.cancelled is not None and self.cancelled():
            self._abort("The migration was cancelled.")
            return
        self._converge(figures.data_remaining)

    def _converge(self, remaining: int) -> None:
        now = time.monotonic()
        if self.best_remaining is None or remaining < self.best_remaining:
            self.best_remaining, self.improved_at = remaining, now
            return
        if now - self.improved_at < self.options.stall_seconds or self.last_resort_used:
            return
        self.improved_at = now  # give each step its own stall time
        ladder = self.options.downtime_ladder_ms
        if self.step + 1 < len(ladder):
            self.step += 1
            self.domain.migrateSetMaxDowntime(ladder[self.step], 0)
            return
        self.last_resort_used = True
        resort = self.options.last_resort
        if resort == LastResort.ABORT:
            self._abort(f"The migration did not converge: the guest changes its memory faster than it can be "
                        f"copied, even allowing {ladder[-1]} ms of downtime.")
        elif resort == LastResort.POST_COPY:
            self.domain.migrateStartPostCopy(0)
        else:
            self.domain.migrateSetMaxDowntime(self.options.final_downtime_ms, 0)

    def _abort(self, why: str) -> None:
        self.aborted_because = why
        try:
            self.domain.abortJob()
        except libvirt.libvirtError:
            pass  # already ending: migrateToURI3's outcome decides


def _completed_figures(dest_uri: str, uuid: str) -> tuple[int | None, int]:
    """(downtime ms, bytes sent) of the finished migration, as the destination
    keeps them; (None, 0) when it cannot say."""
    try:
        with libvirt_errors(dest_uri):
            stats = _lookup(dest_uri, uuid).jobStats(libvirt.VIR_DOMAIN_JOB_STATS_COMPLETED)
    except HypervisorError:
        return None, 0
    downtime = stats.get("downtime")
    return (int(downtime) if downtime is not None else None), int(stats.get("data_processed", stats.get("data_total", 0)))
