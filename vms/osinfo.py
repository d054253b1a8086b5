"""Reading the OS catalogue of libosinfo (``osinfo-db``) into plain data.

Plain Python, no Django: the importer in ``vms.services.catalog`` stores what
this module returns. An osinfo tree holds one XML file per OS under
``<root>/os/<vendor>/``, plus ``<file>.d/`` fragments that add to the same OS
(Windows' virtio-win driver lists live there). An OS inherits devices and
resources through ``<derives-from>`` / ``<clones>``, and a device may be
switched off again with ``supported="false"``.

Several roots are read in order, the way libosinfo layers the system database
under local ones: a later root adds OSes and replaces an earlier root's OS of the
same id or short-id, so an admin can drop a newer OS into ``var/osinfo/``. A few
built-in stand-ins (``BUILTIN_IDS``) are always there: they cover a missing
osinfo-db and the known gaps of Debian 12's copy (it stops at debian11). Any
root that defines one of their short-ids wins over the stand-in.

The device defaults an OS implies are derived here, once, from what it
supports (see ``_derive``); ``vms.policy`` reads them from the stored rows.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

DEFAULT_ROOT = Path("/usr/share/osinfo")

_PCI = "http://pcisig.com/pci/"
VIRTIO_BLOCK = frozenset({_PCI + "1af4/1001", _PCI + "1af4/1042"})  # virtio-block, virtio1.0-block
VIRTIO_NET = frozenset({_PCI + "1af4/1000", _PCI + "1af4/1041"})  # virtio-net, virtio1.0-net
VIRTIO_GPU = _PCI + "1af4/1050"
QXL = _PCI + "1b36/0100"
# osinfo-db names no AHCI controller. An OS it marks as fit for the Q35
# chipset, or for Q35-era ICH9 parts, has the AHCI driver Q35's SATA controller
# needs, so those mark SATA support.
AHCI_HINTS = frozenset({"http://qemu.org/chipset/x86/q35", _PCI + "8086/293e", _PCI + "8086/10d3"})
# AHCI drivers shipped with Windows from NT 6.0 (Vista / Server 2008) and with
# Linux from 2.6.19 (late 2006); used when osinfo marks nothing.
LINUX_AHCI_SINCE = dt.date(2007, 1, 1)
WINDOWS_AHCI_SINCE_VERSION = (6, 0)
# virtio-gpu is in Linux from 4.4 (January 2016): a virtio-capable Linux
# released since gets it even where osinfo does not list the device.
LINUX_VIRTIO_GPU_SINCE = dt.date(2016, 1, 1)

MIB = 1 << 20
GIB = 1 << 30
# Preferred architectures for resources, best first. Other architectures are
# used only when no x86 figure exists anywhere up the derives-from chain.
PREFERRED_ARCHES = ("x86_64", "all")
FALLBACK_ARCHES = ("i686",)
RESOURCE_FIELDS = (
    "minimum.ram", "minimum.n-cpus", "minimum.storage",
    "recommended.ram", "recommended.n-cpus", "recommended.storage",
)  # fmt: skip

_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def _parser() -> etree.XMLParser:
    """No DTDs, no entity expansion, no network: osinfo trees are data, and an
    extra root is whatever an admin dropped into a directory. One per read, as
    lxml parsers must not be shared between threads."""
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
        remove_comments=True, remove_pis=True, remove_blank_text=True, huge_tree=False,
    )  # fmt: skip


@dataclass(frozen=True)
class OsEntry:
    """One OS of the catalogue; the field names are those of
    ``vms.models.OperatingSystem`` (plus ``aliases`` and ``os_id``)."""

    short_id: str
    name: str
    family: str  # "linux" | "windows" | "other"
    vendor: str = ""
    version: str = ""
    release_date: dt.date | None = None
    eol_date: dt.date | None = None
    minimum_memory_mb: int = 0
    minimum_vcpus: int = 1
    minimum_disk_gb: int = 0
    recommended_memory_mb: int = 1024
    recommended_vcpus: int = 1
    recommended_disk_gb: int = 10
    virtio: bool = True
    disk_bus: str = "virtio"  # "virtio" | "sata" | "ide"
    nic_model: str = "virtio"  # "virtio" | "e1000"
    video_model: str = "virtio"  # "virtio" | "qxl" | "vga"
    clock_offset: str = "utc"  # "utc" | "localtime"
    hyperv: bool = False
    guest_agent: bool = True
    source: str = "osinfo"  # "osinfo" | "builtin"
    aliases: tuple[str, ...] = ()  # the OS's other osinfo short-ids (debianbullseye ...)
    os_id: str = ""  # osinfo's URI, http://debian.org/debian/11


@dataclass(frozen=True)
class Catalogue:
    entries: tuple[OsEntry, ...]
    roots_read: tuple[Path, ...]  # the roots that exist and were read
    roots_missing: tuple[Path, ...]

    @property
    def from_osinfo(self) -> int:
        return sum(entry.source == "osinfo" for entry in self.entries)

    @property
    def builtin(self) -> int:
        return sum(entry.source == "builtin" for entry in self.entries)


# ---------------------------------------------------------------------------
# Raw records: what the XML says, before inheritance.


@dataclass
class _Raw:
    os_id: str
    complete: bool = False  # seen in a main file, not only in .d/ fragments
    short_ids: list[str] = field(default_factory=list)
    name: str | None = None
    vendor: str | None = None
    version: str | None = None
    family: str | None = None
    release_date: str | None = None
    eol_date: str | None = None
    parents: list[str] = field(default_factory=list)
    devices: set[str] = field(default_factory=set)
    unsupported: set[str] = field(default_factory=set)
    driver_devices: set[str] = field(default_factory=set)
    # arch -> "minimum.ram" ... -> value
    resources: dict[str, dict[str, int]] = field(default_factory=dict)


def _text(element) -> str | None:
    text = (element.text or "").strip()
    return text or None


def _merge_element(raw: _Raw, os_element) -> None:
    """Fold one <os> element into ``raw``: first value wins for scalars (the
    main file is read before its fragments), sets and lists accumulate."""
    for child in os_element:
        tag = child.tag
        if tag == "short-id":
            value = _text(child)
            if value and value not in raw.short_ids:
                raw.short_ids.append(value)
        elif tag in ("name", "vendor", "version", "family", "release-date", "eol-date"):
            if child.get(_LANG) is not None:
                continue
            attr = tag.replace("-", "_")
            if getattr(raw, attr) is None:
                setattr(raw, attr, _text(child))
        elif tag in ("derives-from", "clones"):
            parent = child.get("id")
            if parent and parent not in raw.parents:
                raw.parents.append(parent)
        elif tag == "devices":
            for device in child.iterchildren("device"):
                device_id = device.get("id")
                if not device_id:
                    continue
                if device.get("supported") == "false":
                    raw.unsupported.add(device_id)
                    raw.devices.discard(device_id)
                else:
                    raw.devices.add(device_id)
                    raw.unsupported.discard(device_id)
        elif tag == "driver":
            raw.driver_devices.update(d.get("id") for d in child.iterchildren("device") if d.get("id"))
        elif tag == "resources":
            figures = raw.resources.setdefault(child.get("arch") or "all", {})
            for level in child.iterchildren("minimum", "recommended"):
                for item in level.iterchildren("ram", "n-cpus", "storage"):
                    try:
                        value = int(_text(item) or "")
                    except ValueError:
                        continue
                    figures.setdefault(f"{level.tag}.{item.tag}", value)


def _os_files(root: Path) -> tuple[list[Path], list[Path]]:
    """The main XML files and the .d/ fragments of a root, each sorted."""
    base = root / "os" if (root / "os").is_dir() else root
    main, fragments = [], []
    for path in sorted(base.rglob("*.xml")):
        (fragments if path.parent.name.endswith(".d") else main).append(path)
    return main, fragments


def _read_root(root: Path) -> dict[str, _Raw]:
    records: dict[str, _Raw] = {}
    parser = _parser()
    main, fragments = _os_files(root)
    for paths, complete in ((main, True), (fragments, False)):
        for path in paths:
            try:
                tree = etree.parse(str(path), parser)
            except (OSError, etree.XMLSyntaxError):
                continue  # one broken file must not hide the other 800
            for os_element in tree.getroot().iterchildren("os"):
                os_id = os_element.get("id")
                if not os_id:
                    continue
                raw = records.setdefault(os_id, _Raw(os_id=os_id))
                raw.complete = raw.complete or complete
                _merge_element(raw, os_element)
    return records


def _layer(roots: Sequence[Path]) -> tuple[dict[str, _Raw], list[str], list[Path], list[Path]]:
    """Read the roots in order. Returns every record by id (inheritance may
    reach a replaced one), the ids to emit, and which roots were read/missing."""
    by_id: dict[str, _Raw] = {}
    emitted: dict[str, str] = {}  # primary short-id -> os id
    read, missing = [], []
    for root in roots:
        root = Path(root)
        if not root.is_dir():
            missing.append(root)
            continue
        read.append(root)
        for os_id, raw in _read_root(root).items():
            earlier = by_id.get(os_id)
            if earlier is not None and not raw.complete:
                # Fragments only (a driver list for an OS defined below): add to it.
                earlier.devices |= raw.devices
                earlier.devices -= raw.unsupported
                earlier.unsupported |= raw.unsupported
                earlier.driver_devices |= raw.driver_devices
                continue
            if not raw.complete or not raw.short_ids:
                by_id.setdefault(os_id, raw)
                continue
            if earlier is not None:
                # libosinfo reads every fragment file, whichever root defines
                # the OS itself: keep the driver lists.
                raw.driver_devices |= earlier.driver_devices
                if earlier.short_ids:
                    emitted.pop(earlier.short_ids[0], None)
            # A later OS with an earlier one's short-id replaces that one.
            emitted[raw.short_ids[0]] = os_id
            by_id[os_id] = raw
    order = [os_id for os_id in emitted.values() if by_id[os_id].complete]
    return by_id, order, read, missing


# ---------------------------------------------------------------------------
# Inheritance and derivation.


class _Resolver:
    def __init__(self, by_id: Mapping[str, _Raw]):
        self.by_id = by_id
        self._devices: dict[str, tuple[frozenset[str], frozenset[str]]] = {}

    def parents(self, raw: _Raw) -> Iterable[_Raw]:
        return (self.by_id[p] for p in raw.parents if p in self.by_id)

    def devices(self, raw: _Raw, _seen: frozenset[str] = frozenset()) -> tuple[frozenset[str], frozenset[str]]:
        """(supported, explicitly unsupported) devices, inherited; the OS's own
        word on a device beats its parents'. Driver lists count as support."""
        cached = self._devices.get(raw.os_id)
        if cached is not None:
            return cached
        supported: set[str] = set()
        unsupported: set[str] = set()
        seen = _seen | {raw.os_id}
        for parent in self.parents(raw):
            if parent.os_id in seen:
                continue  # a cycle in somebody's extra root
            p_supported, p_unsupported = self.devices(parent, seen)
            supported |= p_supported
            unsupported |= p_unsupported
        own = raw.devices | raw.driver_devices
        supported = (supported - raw.unsupported) | own
        unsupported = (unsupported - own) | raw.unsupported
        result = (frozenset(supported), frozenset(unsupported))
        self._devices[raw.os_id] = result
        return result

    def scalar(self, raw: _Raw, attr: str, _seen: frozenset[str] = frozenset()) -> str | None:
        value = getattr(raw, attr)
        if value is not None:
            return value
        seen = _seen | {raw.os_id}
        for parent in self.parents(raw):
            if parent.os_id not in seen and (value := self.scalar(parent, attr, seen)) is not None:
                return value
        return None

    def resource(self, raw: _Raw, key: str, arches: Sequence[str] | None,
                 _seen: frozenset[str] = frozenset()) -> int | None:  # fmt: skip
        """``key`` for the first of ``arches`` (None: any arch) on the OS,
        else inherited."""
        if arches is None:
            values = [figures[key] for figures in raw.resources.values() if key in figures]
            if values:
                return values[0]
        else:
            for arch in arches:
                value = raw.resources.get(arch, {}).get(key)
                if value is not None:
                    return value
        seen = _seen | {raw.os_id}
        for parent in self.parents(raw):
            if parent.os_id not in seen and (value := self.resource(parent, key, arches, seen)) is not None:
                return value
        return None

    def figures(self, raw: _Raw) -> dict[str, int | None]:
        result = {}
        for key in RESOURCE_FIELDS:
            value = self.resource(raw, key, PREFERRED_ARCHES)
            if value is None:
                value = self.resource(raw, key, FALLBACK_ARCHES)
            if value is None:
                value = self.resource(raw, key, None)
            result[key] = value
        return result


# Families osinfo-db gets wrong (2022-11 data): FreeDOS says "linux".
FAMILY_FIXES = {"http://freedos.org/freedos/1.2": "msdos"}


def _family(raw_family: str | None) -> str:
    if raw_family == "linux":
        return "linux"
    if raw_family and raw_family.startswith("win"):  # winnt, win9x, win16
        return "windows"
    return "other"  # msdos, the BSDs, solaris, darwin, haiku, hurd, netware ...


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _version_tuple(version: str) -> tuple[int, ...]:
    parts = []
    for part in version.split("."):
        if not part.isdigit():
            break
        parts.append(int(part))
    return tuple(parts)


def _mb(value: int | None) -> int | None:
    return None if value is None else max(1, math.ceil(value / MIB))


def _gb(value: int | None) -> int | None:
    return None if value is None else max(1, math.ceil(value / GIB))


@dataclass(frozen=True)
class DeviceDefaults:
    virtio: bool
    disk_bus: str
    nic_model: str
    video_model: str
    clock_offset: str
    hyperv: bool
    guest_agent: bool


def derive_defaults(*, family: str, devices: frozenset[str], unsupported: frozenset[str] = frozenset(),
                    version: str = "", release_date: dt.date | None = None) -> DeviceDefaults:  # fmt: skip
    """The device defaults an OS implies, from the devices it supports."""
    virtio_block = bool(devices & VIRTIO_BLOCK)
    virtio_net = bool(devices & VIRTIO_NET)
    virtio = virtio_block or virtio_net
    ahci = bool(devices & AHCI_HINTS)
    if not ahci and family == "windows":
        ahci = _version_tuple(version) >= WINDOWS_AHCI_SINCE_VERSION
    if not ahci and family == "linux" and release_date is not None:
        ahci = release_date >= LINUX_AHCI_SINCE
    disk_bus = "virtio" if virtio_block else "sata" if ahci else "ide"
    nic_model = "virtio" if virtio_net else "e1000"
    if family == "windows":
        # QXL has a Windows driver from XP on; osinfo marks it from Windows 95
        # down the chain, older Windows (3.x, NT 3/4) get plain VGA.
        video_model = "qxl" if QXL in devices else "vga"
    elif family == "linux" and VIRTIO_GPU not in unsupported and (
        VIRTIO_GPU in devices or (virtio and release_date is not None and release_date >= LINUX_VIRTIO_GPU_SINCE)
    ):
        video_model = "virtio"
    else:
        video_model = "vga"
    windows = family == "windows"
    return DeviceDefaults(
        virtio=virtio,
        disk_bus=disk_bus,
        nic_model=nic_model,
        video_model=video_model,
        clock_offset="localtime" if windows else "utc",
        hyperv=windows,
        # qemu-guest-agent talks over virtio-serial: Linux ships it, Windows
        # gets it with the virtio-win drivers.
        guest_agent=family in ("linux", "windows") and virtio,
    )


def _entry(raw: _Raw, resolver: _Resolver) -> OsEntry:
    family = _family(FAMILY_FIXES.get(raw.os_id) or resolver.scalar(raw, "family"))
    version = raw.version or ""
    release_date = _date(raw.release_date)
    devices, unsupported = resolver.devices(raw)
    defaults = derive_defaults(
        family=family, devices=devices, unsupported=unsupported, version=version, release_date=release_date
    )
    figures = resolver.figures(raw)
    minimum_memory = _mb(figures["minimum.ram"])
    minimum_vcpus = figures["minimum.n-cpus"]
    minimum_disk = _gb(figures["minimum.storage"])
    # An OS that only states its minimum is recommended that minimum.
    recommended_memory = _mb(figures["recommended.ram"]) or minimum_memory or 1024
    recommended_vcpus = figures["recommended.n-cpus"] or minimum_vcpus or 1
    recommended_disk = _gb(figures["recommended.storage"]) or minimum_disk or 10
    minimum_memory = minimum_memory or 0
    minimum_vcpus = max(1, minimum_vcpus or 1)
    minimum_disk = minimum_disk or 0
    return OsEntry(
        short_id=raw.short_ids[0],
        name=raw.name or raw.short_ids[0],
        family=family,
        vendor=resolver.scalar(raw, "vendor") or "",
        version=version,
        release_date=release_date,
        eol_date=_date(raw.eol_date),
        minimum_memory_mb=minimum_memory,
        minimum_vcpus=minimum_vcpus,
        minimum_disk_gb=minimum_disk,
        recommended_memory_mb=max(recommended_memory, minimum_memory),
        recommended_vcpus=max(recommended_vcpus, minimum_vcpus),
        recommended_disk_gb=max(recommended_disk, minimum_disk),
        **dataclasses.asdict(defaults),
        source="osinfo",
        aliases=tuple(raw.short_ids[1:]),
        os_id=raw.os_id,
    )


# ---------------------------------------------------------------------------
# Built-in stand-ins.

BUILTIN_IDS = ("linux-generic", "windows-generic", "other", "debian12")


def builtin_entries(known: Mapping[str, OsEntry]) -> list[OsEntry]:
    """The stand-ins, for the short-ids ``known`` (what the roots gave) lacks."""
    entries = [
        OsEntry(
            short_id="linux-generic", name="Generic Linux", family="linux",
            minimum_memory_mb=512, minimum_vcpus=1, minimum_disk_gb=5,
            recommended_memory_mb=2048, recommended_vcpus=2, recommended_disk_gb=20,
            virtio=True, disk_bus="virtio", nic_model="virtio", video_model="virtio",
            clock_offset="utc", hyperv=False, guest_agent=True, source="builtin",
        ),
        # Windows installs from Microsoft's media see no virtio disk or NIC
        # until the virtio-win drivers are installed, and we cannot know that
        # they are: the generic entry picks SATA + e1000, which every Windows
        # from Vista on drives out of the box, and no guest agent. A template
        # with the drivers should use a specific OS type (win10 ...) instead.
        OsEntry(
            short_id="windows-generic", name="Generic Windows", family="windows",
            vendor="Microsoft Corporation",
            minimum_memory_mb=2048, minimum_vcpus=1, minimum_disk_gb=32,
            recommended_memory_mb=4096, recommended_vcpus=2, recommended_disk_gb=64,
            virtio=False, disk_bus="sata", nic_model="e1000", video_model="qxl",
            clock_offset="localtime", hyperv=True, guest_agent=False, source="builtin",
        ),
        OsEntry(
            short_id="other", name="Other OS", family="other",
            minimum_memory_mb=0, minimum_vcpus=1, minimum_disk_gb=0,
            recommended_memory_mb=1024, recommended_vcpus=1, recommended_disk_gb=10,
            virtio=False, disk_bus="ide", nic_model="e1000", video_model="vga",
            clock_offset="utc", hyperv=False, guest_agent=False, source="builtin",
        ),
    ]  # fmt: skip
    # Debian 12 "bookworm" (June 2023) postdates Debian 12's osinfo-db. It
    # supports what Debian 11 does and asks for the same resources.
    debian11 = known.get("debian11")
    debian12 = OsEntry(
        short_id="debian12", name="Debian 12", family="linux", vendor="Debian Project", version="12",
        minimum_memory_mb=1024, minimum_vcpus=1, minimum_disk_gb=10,
        recommended_memory_mb=1024, recommended_vcpus=1, recommended_disk_gb=20,
    )  # fmt: skip
    if debian11 is not None:
        debian12 = dataclasses.replace(debian11, short_id="debian12", name="Debian 12", version="12")
    entries.append(
        dataclasses.replace(
            debian12,
            release_date=dt.date(2023, 6, 10),
            eol_date=None,
            source="builtin",
            aliases=("debianbookworm",),
            os_id="",
        )
    )
    return [entry for entry in entries if entry.short_id not in known]


# ---------------------------------------------------------------------------
# The public readers.


def read_osinfo(roots: Sequence[Path] | None = None) -> tuple[list[OsEntry], list[Path], list[Path]]:
    """The OSes of the osinfo trees ``roots`` (default: /usr/share/osinfo),
    later roots overriding earlier ones. Returns (entries, roots read, roots
    missing)."""
    by_id, order, read, missing = _layer(list(roots) if roots is not None else [DEFAULT_ROOT])
    resolver = _Resolver(by_id)
    return [_entry(by_id[os_id], resolver) for os_id in order], read, missing


def load_catalogue(roots: Sequence[Path] | None = None) -> Catalogue:
    """The osinfo OSes of ``roots`` plus the built-in stand-ins, sorted by short-id."""
    entries, read, missing = read_osinfo(roots)
    known = {entry.short_id: entry for entry in entries}
    entries += builtin_entries(known)
    entries.sort(key=lambda entry: entry.short_id)
    return Catalogue(entries=tuple(entries), roots_read=tuple(read), roots_missing=tuple(missing))
