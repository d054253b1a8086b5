"""The OS catalogue and the hardware presets: imported at set-up, read by the
wizard and by ``vms.policy``.

``operating_systems_import`` stores what ``vms.osinfo`` reads from osinfo-db
(plus the built-in stand-ins), upserting by short-id in bulk so that set-up can
run it every time: a second run with the same tree writes nothing. An OS that
vanished from the tree is left in place, since VMs may still refer to it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction

from vms import osinfo
from vms.models import InstanceType, OperatingSystem
from vms.policy import OsProfile

# The fields an import owns: everything the tree says about an OS.
OS_FIELDS = tuple(f.name for f in OperatingSystem._meta.concrete_fields if f.name != "short_id")
BATCH_SIZE = 200


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int
    total: int  # OSes in the catalogue just read (osinfo + built in)
    seconds: float
    from_osinfo: int = 0
    builtin: int = 0
    roots_read: tuple[Path, ...] = ()
    roots_missing: tuple[Path, ...] = ()


def osinfo_default_roots() -> list[Path]:
    """The system's osinfo-db, then ``var/osinfo/`` where an admin drops
    newer OSes (same layout: ``os/<vendor>/<os>.xml``), which override it."""
    return [osinfo.DEFAULT_ROOT, Path(settings.VAR_DIR) / "osinfo"]


def _row_values(entry: osinfo.OsEntry) -> dict:
    values = {name: getattr(entry, name) for name in OS_FIELDS}
    # The model's limits; osinfo's longest name is 40 characters today.
    for name in ("name", "vendor", "version"):
        values[name] = values[name][: OperatingSystem._meta.get_field(name).max_length]
    return values


def operating_systems_import(*, roots: Sequence[Path] | None = None) -> ImportResult:
    """Read the osinfo trees ``roots`` (default: ``osinfo_default_roots()``)
    and upsert every OS by short-id. Never deletes: an OS that left the tree
    stays, as VMs may use it."""
    started = time.perf_counter()
    catalogue = osinfo.load_catalogue(list(roots) if roots is not None else osinfo_default_roots())
    with transaction.atomic():
        existing = {os.short_id: os for os in OperatingSystem.objects.select_for_update()}
        to_create, to_update = [], []
        for entry in catalogue.entries:
            values = _row_values(entry)
            row = existing.get(entry.short_id)
            if row is None:
                to_create.append(OperatingSystem(short_id=entry.short_id, **values))
            elif any(getattr(row, name) != value for name, value in values.items()):
                for name, value in values.items():
                    setattr(row, name, value)
                to_update.append(row)
        OperatingSystem.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
        OperatingSystem.objects.bulk_update(to_update, OS_FIELDS, batch_size=BATCH_SIZE)
    total = len(catalogue.entries)
    return ImportResult(
        created=len(to_create),
        updated=len(to_update),
        unchanged=total - len(to_create) - len(to_update),
        total=total,
        seconds=time.perf_counter() - started,
        from_osinfo=catalogue.from_osinfo,
        builtin=catalogue.builtin,
        roots_read=catalogue.roots_read,
        roots_missing=catalogue.roots_missing,
    )


# oVirt's shipped presets: sockets x cores x threads = n x 1 x 1.
INSTANCE_TYPES = (
    ("Tiny", 512, 1, "For small services and appliances: 512 MB, 1 vCPU."),
    ("Small", 2048, 1, "A light server or a small desktop: 2 GB, 1 vCPU."),
    ("Medium", 4096, 2, "A general-purpose server or desktop: 4 GB, 2 vCPUs."),
    ("Large", 8192, 2, "Memory-hungry services, databases, build machines: 8 GB, 2 vCPUs."),
    ("XLarge", 16384, 4, "Heavy workloads: 16 GB, 4 vCPUs."),
)


def instance_types_seed() -> int:
    """Create the presets that are missing, by name; an admin's edits to one
    that exists are kept. Returns how many were created."""
    with transaction.atomic():
        names = [name for name, *_ in INSTANCE_TYPES]
        present = set(InstanceType.objects.filter(name__in=names).values_list("name", flat=True))
        missing = [
            InstanceType(
                name=name, description=description, memory_mb=memory_mb,
                cpu_sockets=vcpus, cpu_cores=1, cpu_threads=1,
            )  # fmt: skip
            for name, memory_mb, vcpus, description in INSTANCE_TYPES
            if name not in present
        ]
        InstanceType.objects.bulk_create(missing)
    return len(missing)


def os_profile_of(os: OperatingSystem) -> OsProfile:
    """What ``vms.policy`` needs of an OS type."""
    return OsProfile(
        short_id=os.short_id,
        family=os.family,
        virtio=os.virtio,
        disk_bus=os.disk_bus,
        nic_model=os.nic_model,
        video_model=os.video_model,
        clock_offset=os.clock_offset,
        hyperv=os.hyperv,
        guest_agent=os.guest_agent,
    )
