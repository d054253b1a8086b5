"""Typed, immutable descriptions of hosts and domains.

Specs say *what* a domain is; ``hypervisor.domain_xml`` turns them into libvirt
XML and back. They validate themselves on construction so that a bad value is
reported as InvalidSpec with a clear message before libvirt ever sees it. Lists
given for the device fields are stored as tuples, and ``metadata`` as a read-only
mapping, so a spec cannot change after it was validated.
"""

from __future__ import annotations

import ipaddress
import re
import uuid as uuidlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from hypervisor.errors import InvalidSpec

# Disk bus -> the target device prefix libvirt and guests expect on it.
DISK_BUS_PREFIXES: dict[str, str] = {"virtio": "vd", "scsi": "sd", "sata": "sd", "usb": "sd", "ide": "hd"}
DISK_DEVICES = frozenset({"disk", "cdrom"})
DISK_FORMATS = frozenset({"qcow2", "raw"})
NIC_MODELS = frozenset({"virtio", "e1000", "e1000e", "rtl8139"})
GRAPHICS_TYPES = frozenset({"vnc", "spice"})
SERIAL_TYPES = frozenset({"pty", "file"})
DOMAIN_TYPES = frozenset({"kvm", "qemu", "test"})
OS_TYPES = frozenset({"hvm"})
BOOT_DEVICES = frozenset({"hd", "cdrom", "network", "fd"})
VIDEO_MODELS = frozenset({"vga", "cirrus", "qxl", "virtio", "bochs", "none"})
ON_POWEROFF_REBOOT = frozenset({"destroy", "restart", "preserve", "rename-restart"})
ON_CRASH = ON_POWEROFF_REBOOT | {"coredump-destroy", "coredump-restart"}

_MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
_TARGET = re.compile(r"^(vd|sd|hd)[a-z]+$")
# Characters XML 1.0 cannot carry at all; lxml refuses them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_CONTROL = re.compile("[\x00-\x1f\x7f]")


def _xml_text(what: str, value: object, *, single_line: bool = False) -> None:
    if not isinstance(value, str):
        raise InvalidSpec(f"{what} must be text, not {type(value).__name__}.")
    if _NOT_XML.search(value):
        raise InvalidSpec(f"{what} contains characters that cannot be stored in XML.")
    if single_line and _CONTROL.search(value):
        raise InvalidSpec(f"{what} must be a single line without control characters.")


def _positive_int(what: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidSpec(f"{what} must be a positive whole number, not {value!r}.")


def _one_of(what: str, value: object, allowed: frozenset[str]) -> None:
    if value not in allowed:
        raise InvalidSpec(f"{what} must be one of {', '.join(sorted(allowed))}, not {value!r}.")


@dataclass(frozen=True)
class CpuTopology:
    sockets: int = 1
    cores: int = 1
    threads: int = 1

    def __post_init__(self) -> None:
        for name in ("sockets", "cores", "threads"):
            _positive_int(f"CPU {name}", getattr(self, name))

    @property
    def total(self) -> int:
        return self.sockets * self.cores * self.threads


@dataclass(frozen=True)
class NumaCell:
    index: int
    cpus: tuple[int, ...]
    memory_mb: int


@dataclass(frozen=True)
class HostInfo:
    hostname: str
    cpu_model: str
    cpu_arch: str
    topology: CpuTopology
    cpu_total: int
    numa_cells: tuple[NumaCell, ...]
    memory_mb: int
    libvirt_version: str
    hypervisor_version: str
    hypervisor_type: str  # libvirt's driver name: "QEMU", "TEST"
    kvm: bool
    domain_type: str  # what a DomainSpec for this host should use: kvm, qemu or test


@dataclass(frozen=True)
class DiskSpec:
    path: str
    format: str = "qcow2"
    bus: str = "virtio"
    device: str = "disk"
    target: str | None = None  # None: the next free name for the bus (vda, sda, hda...)
    readonly: bool = False
    boot_order: int | None = None

    def __post_init__(self) -> None:
        _xml_text("Disk path", self.path, single_line=True)
        if not self.path.startswith("/"):
            raise InvalidSpec(f"Disk path must be absolute, not {self.path!r}.")
        _one_of("Disk format", self.format, DISK_FORMATS)
        _one_of("Disk bus", self.bus, frozenset(DISK_BUS_PREFIXES))
        _one_of("Disk device", self.device, DISK_DEVICES)
        if self.target is not None:
            if not _TARGET.match(self.target) or not self.target.startswith(DISK_BUS_PREFIXES[self.bus]):
                raise InvalidSpec(
                    f"Disk target {self.target!r} does not fit the {self.bus} bus "
                    f"(expected {DISK_BUS_PREFIXES[self.bus]}a, {DISK_BUS_PREFIXES[self.bus]}b...)."
                )
        if self.boot_order is not None:
            _positive_int("Disk boot order", self.boot_order)


@dataclass(frozen=True)
class NicSpec:
    network: str | None = None
    bridge: str | None = None
    model: str = "virtio"
    mac: str | None = None  # None: libvirt picks one

    def __post_init__(self) -> None:
        if (self.network is None) == (self.bridge is None):
            raise InvalidSpec("A NIC needs exactly one of network or bridge.")
        _xml_text("NIC network or bridge", self.network or self.bridge, single_line=True)
        _one_of("NIC model", self.model, NIC_MODELS)
        if self.mac is not None:
            mac = self.mac.lower() if isinstance(self.mac, str) else self.mac
            if not isinstance(mac, str) or not _MAC.match(mac):
                raise InvalidSpec(f"MAC address {self.mac!r} is not of the form 52:54:00:12:34:56.")
            if int(mac[:2], 16) & 1:
                raise InvalidSpec(f"MAC address {self.mac!r} is a multicast address; a NIC needs a unicast one.")
            object.__setattr__(self, "mac", mac)


@dataclass(frozen=True)
class GraphicsSpec:
    type: str = "vnc"
    listen: str = "127.0.0.1"
    port: int = -1  # -1: libvirt picks a free port (autoport)
    password: str | None = None

    def __post_init__(self) -> None:
        _one_of("Graphics type", self.type, GRAPHICS_TYPES)
        try:
            ipaddress.ip_address(self.listen)
        except ValueError:
            raise InvalidSpec(f"Graphics listen address {self.listen!r} is not an IP address.") from None
        if self.port != -1 and not (isinstance(self.port, int) and 5900 <= self.port <= 65535):
            raise InvalidSpec(f"Graphics port must be -1 (automatic) or 5900-65535, not {self.port!r}.")
        if self.password is not None:
            _xml_text("Graphics password", self.password, single_line=True)


@dataclass(frozen=True)
class SerialSpec:
    type: str = "pty"
    path: str | None = None  # the log file for type "file"

    def __post_init__(self) -> None:
        _one_of("Serial type", self.type, SERIAL_TYPES)
        if self.type == "file":
            if not self.path:
                raise InvalidSpec("A serial port of type file needs a path.")
            _xml_text("Serial path", self.path, single_line=True)
            if not self.path.startswith("/"):
                raise InvalidSpec(f"Serial path must be absolute, not {self.path!r}.")
        elif self.path is not None:
            raise InvalidSpec(f"A serial port of type {self.type} takes no path.")


@dataclass(frozen=True)
class DomainSpec:
    name: str
    memory_mb: int
    topology: CpuTopology = CpuTopology()
    domain_type: str = "kvm"
    uuid: str | None = None  # None: libvirt generates one
    title: str = ""
    description: str = ""
    arch: str = "x86_64"
    machine: str | None = None  # None: the hypervisor's default machine type
    os_type: str = "hvm"
    boot_devices: tuple[str, ...] = ("hd",)
    disks: tuple[DiskSpec, ...] = ()
    nics: tuple[NicSpec, ...] = ()
    graphics: tuple[GraphicsSpec, ...] = ()
    serials: tuple[SerialSpec, ...] = ()
    smbios_serial: str | None = None  # shown to the guest as its SMBIOS system serial
    video_model: str | None = "vga"  # None: no <video>, libvirt's default applies
    acpi: bool = True  # graceful shutdown needs ACPI
    on_poweroff: str = "destroy"
    on_reboot: str = "restart"
    on_crash: str = "destroy"
    # Tags the portal keeps on the domain (e.g. which VM row owns it). Left out of
    # the hash because a mapping has none; equality still compares it.
    metadata: Mapping[str, str] = field(default_factory=dict, hash=False)

    @property
    def vcpus(self) -> int:
        return self.topology.total

    def __post_init__(self) -> None:
        self._freeze_collections()
        self._check_identity()
        _positive_int("Memory (MiB)", self.memory_mb)
        if not isinstance(self.topology, CpuTopology):
            raise InvalidSpec("The CPU topology must be a CpuTopology.")
        _one_of("Domain type", self.domain_type, DOMAIN_TYPES)
        _one_of("OS type", self.os_type, OS_TYPES)
        _xml_text("Architecture", self.arch, single_line=True)
        if self.machine is not None:
            _xml_text("Machine type", self.machine, single_line=True)
        self._check_devices()
        self._check_boot()
        if self.smbios_serial is not None:
            _xml_text("SMBIOS serial", self.smbios_serial, single_line=True)
        if self.video_model is not None:
            _one_of("Video model", self.video_model, VIDEO_MODELS)
        _one_of("Action on poweroff", self.on_poweroff, ON_POWEROFF_REBOOT)
        _one_of("Action on reboot", self.on_reboot, ON_POWEROFF_REBOOT)
        _one_of("Action on crash", self.on_crash, ON_CRASH)
        for key, value in self.metadata.items():
            _xml_text("Metadata key", key, single_line=True)
            if not key:
                raise InvalidSpec("Metadata keys must not be empty.")
            _xml_text(f"Metadata value of {key!r}", value)
        object.__setattr__(self, "disks", _with_targets(self.disks))

    def _freeze_collections(self) -> None:
        for name in ("boot_devices", "disks", "nics", "graphics", "serials"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        object.__setattr__(self, "metadata", MappingProxyType(dict(self.metadata)))

    def _check_identity(self) -> None:
        _xml_text("Name", self.name, single_line=True)
        if not self.name.strip():
            raise InvalidSpec("The name must not be empty.")
        if "/" in self.name:
            raise InvalidSpec(f"The name {self.name!r} contains '/', which libvirt refuses.")
        _xml_text("Title", self.title, single_line=True)
        _xml_text("Description", self.description)
        if self.uuid is not None:
            try:
                object.__setattr__(self, "uuid", str(uuidlib.UUID(self.uuid)))
            except (ValueError, TypeError, AttributeError):
                raise InvalidSpec(f"{self.uuid!r} is not a UUID.") from None

    def _check_boot(self) -> None:
        for device in self.boot_devices:
            _one_of("Boot device", device, BOOT_DEVICES)
        if len(set(self.boot_devices)) != len(self.boot_devices):
            raise InvalidSpec("Each boot device may appear only once.")
        if self.boot_devices and any(d.boot_order is not None for d in self.disks):
            # libvirt refuses to mix <os><boot dev=...> with per-device <boot order=...>.
            raise InvalidSpec("Give either boot devices or per-disk boot orders, not both.")

    def _check_devices(self) -> None:
        kinds = (("disk", self.disks, DiskSpec), ("NIC", self.nics, NicSpec))
        kinds += (("graphics", self.graphics, GraphicsSpec), ("serial", self.serials, SerialSpec))
        for label, items, kind in kinds:
            for item in items:
                if not isinstance(item, kind):
                    raise InvalidSpec(f"Each {label} must be a {kind.__name__}, not {type(item).__name__}.")
        if len({g.type for g in self.graphics}) != len(self.graphics):
            raise InvalidSpec("At most one graphics device of each type.")


def _with_targets(disks: tuple[DiskSpec, ...]) -> tuple[DiskSpec, ...]:
    """Give every disk without a target the next free name on its bus."""
    taken = [d.target for d in disks if d.target is not None]
    if len(set(taken)) != len(taken):
        raise InvalidSpec("Two disks have the same target device.")
    used = set(taken)
    result = []
    for disk in disks:
        if disk.target is None:
            prefix = DISK_BUS_PREFIXES[disk.bus]
            free = (prefix + letter for letter in "abcdefghijklmnopqrstuvwxyz" if prefix + letter not in used)
            target = next(free, None)
            if target is None:
                raise InvalidSpec(f"Too many disks with the {prefix} prefix.")
            used.add(target)
            disk = replace(disk, target=target)
        result.append(disk)
    return tuple(result)
