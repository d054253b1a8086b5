"""Typed, immutable descriptions of hosts and domains.

Specs say *what* a domain is; ``hypervisor.domain_xml`` turns them into libvirt
XML and back. They validate themselves on construction so that a bad value is
reported as InvalidSpec with a clear message before libvirt ever sees it. Lists
given for the device fields are stored as tuples, and ``metadata`` as a read-only
mapping, so a spec cannot change after it was validated. Where libvirt writes a
value back in its own order (CPU sets, vCPU pins, Hyper-V features) the spec keeps
that order too, so that what libvirt hands back parses into an equal spec.

What a *choice* implies (an OS type, an optimization profile) is not decided here:
``vms.policy`` does that and hands over a finished DomainSpec.
"""

from __future__ import annotations

import ipaddress
import re
import secrets
import string
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
CDROM_BUSES = frozenset({"sata", "ide", "scsi"})
# None (no mode) is the hypervisor's default CPU; "custom" names a model.
CPU_MODES = frozenset({"custom", "host-model", "host-passthrough", "maximum"})
CLOCK_OFFSETS = frozenset({"utc", "localtime"})
TIMER_NAMES = frozenset({"rtc", "pit", "hpet", "kvmclock", "hypervclock", "tsc"})
TIMER_TICKPOLICIES = frozenset({"delay", "catchup", "merge", "discard"})
# The Hyper-V enlightenments a spec can ask for, in the order libvirt writes them.
HYPERV_FEATURES: tuple[str, ...] = (
    "relaxed", "vapic", "spinlocks", "vpindex", "synic", "stimer", "reset", "frequencies",
)  # fmt: skip
HYPERV_SPINLOCK_RETRIES = 8191  # what Windows expects and what virt-install/oVirt set
# Enlightenment -> what it needs (QEMU enforces these under KVM).
HYPERV_NEEDS: dict[str, str] = {"synic": "vpindex", "stimer": "synic"}
SOUND_MODELS = frozenset({"ac97", "es1370", "ich6", "ich9", "sb16"})

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


def _index(what: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidSpec(f"{what} must be a whole number from 0 up, not {value!r}.")


def _flag(what: str, value: object) -> None:
    if not isinstance(value, bool):
        raise InvalidSpec(f"{what} must be True or False, not {value!r}.")


def _one_of(what: str, value: object, allowed: frozenset[str]) -> None:
    if value not in allowed:
        raise InvalidSpec(f"{what} must be one of {', '.join(sorted(allowed))}, not {value!r}.")


def _absolute_path(what: str, value: object) -> None:
    _xml_text(what, value, single_line=True)
    if not str(value).startswith("/"):
        raise InvalidSpec(f"{what} must be absolute, not {value!r}.")


def _id_set(what: str, values: object) -> tuple[int, ...]:
    """A set of CPU or node numbers as a sorted tuple (how libvirt writes it back)."""
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise InvalidSpec(f"{what} must be a list of numbers, not {values!r}.")
    numbers = tuple(values)
    for number in numbers:
        _index(what, number)
    if len(set(numbers)) != len(numbers):
        raise InvalidSpec(f"{what} lists a number twice: {list(numbers)}.")
    return tuple(sorted(numbers))


def format_id_set(numbers: tuple[int, ...]) -> str:
    """(0, 1, 2, 5) -> "0-2,5": libvirt's way of writing CPU and node sets."""
    ranges: list[str] = []
    start = previous = None
    for number in sorted(numbers):
        if previous is not None and number == previous + 1:
            previous = number
            continue
        if start is not None:
            ranges.append(str(start) if start == previous else f"{start}-{previous}")
        start = previous = number
    if start is not None:
        ranges.append(str(start) if start == previous else f"{start}-{previous}")
    return ",".join(ranges)


def parse_id_set(text: str) -> tuple[int, ...]:
    """libvirt's CPU/node set syntax ("0-3,^2,6") as a sorted tuple."""
    included: set[int] = set()
    excluded: set[int] = set()
    for part in text.replace(" ", "").split(","):
        if not part:
            continue
        target = excluded if part.startswith("^") else included
        part = part.lstrip("^")
        try:
            low, _, high = part.partition("-")
            first, last = int(low), int(high or low)
        except ValueError:
            raise InvalidSpec(f"{text!r} is not a CPU or node set like 0-3,6.") from None
        if first < 0 or last < first:
            raise InvalidSpec(f"{text!r} is not a CPU or node set like 0-3,6.")
        target.update(range(first, last + 1))
    return tuple(sorted(included - excluded))


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
class GuestNumaCell:
    """One NUMA cell the guest sees, optionally bound to host NUMA nodes."""

    index: int
    cpus: tuple[int, ...]  # the guest's vCPU numbers; empty: a memory-only cell
    memory_mb: int
    host_nodes: tuple[int, ...] = ()  # host nodes its memory must come from (strict); (): anywhere

    def __post_init__(self) -> None:
        _index("Guest NUMA cell number", self.index)
        object.__setattr__(self, "cpus", _id_set(f"vCPUs of guest NUMA cell {self.index}", self.cpus))
        _positive_int(f"Memory (MiB) of guest NUMA cell {self.index}", self.memory_mb)
        object.__setattr__(
            self, "host_nodes", _id_set(f"Host nodes of guest NUMA cell {self.index}", self.host_nodes)
        )


@dataclass(frozen=True)
class VcpuPin:
    """vCPU ``vcpu`` runs only on the host CPUs ``cpus``."""

    vcpu: int
    cpus: tuple[int, ...]

    def __post_init__(self) -> None:
        _index("Pinned vCPU", self.vcpu)
        object.__setattr__(self, "cpus", _id_set(f"Host CPUs of vCPU {self.vcpu}", self.cpus))
        if not self.cpus:
            raise InvalidSpec(f"vCPU {self.vcpu} is pinned to no host CPU at all.")


@dataclass(frozen=True)
class TimerSpec:
    """A guest clock source and how it catches up (libvirt's <clock><timer>)."""

    name: str
    present: bool | None = None  # None: the hypervisor's default
    tickpolicy: str | None = None  # None: the hypervisor's default

    def __post_init__(self) -> None:
        _one_of("Timer", self.name, TIMER_NAMES)
        if self.present is not None:
            _flag(f"Presence of the {self.name} timer", self.present)
        if self.tickpolicy is not None:
            _one_of(f"Tick policy of the {self.name} timer", self.tickpolicy, TIMER_TICKPOLICIES)


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
    path: str | None  # None: a CD-ROM drive with an empty tray
    format: str = "qcow2"
    bus: str = "virtio"
    device: str = "disk"  # "cdrom" is always read-only (libvirt makes it so anyway)
    target: str | None = None  # None: the next free name for the bus (vda, sda, hda...)
    readonly: bool = False
    boot_order: int | None = None
    iothread: int | None = None  # the domain's IO thread (1..iothreads) serving it; virtio only

    def __post_init__(self) -> None:
        _one_of("Disk device", self.device, DISK_DEVICES)
        if self.path is None:
            if self.device != "cdrom":
                raise InvalidSpec("Only a CD-ROM drive may be empty; a disk needs a path.")
        else:
            _absolute_path("Disk path", self.path)
        _one_of("Disk format", self.format, DISK_FORMATS)
        _one_of("Disk bus", self.bus, frozenset(DISK_BUS_PREFIXES))
        if self.device == "cdrom":
            if self.bus not in CDROM_BUSES:
                raise InvalidSpec(
                    f"A CD-ROM drive must be on the {', '.join(sorted(CDROM_BUSES))} bus, not {self.bus!r}."
                )
            object.__setattr__(self, "readonly", True)
        if self.iothread is not None:
            _positive_int("Disk IO thread", self.iothread)
            if self.bus != "virtio":
                raise InvalidSpec(f"Only virtio disks can use an IO thread, not a disk on the {self.bus} bus.")
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
    boot_order: int | None = None  # network (PXE) boot from this NIC

    def __post_init__(self) -> None:
        if (self.network is None) == (self.bridge is None):
            raise InvalidSpec("A NIC needs exactly one of network or bridge.")
        _xml_text("NIC network or bridge", self.network or self.bridge, single_line=True)
        _one_of("NIC model", self.model, NIC_MODELS)
        if self.boot_order is not None:
            _positive_int("NIC boot order", self.boot_order)
        if self.mac is not None:
            mac = self.mac.lower() if isinstance(self.mac, str) else self.mac
            if not isinstance(mac, str) or not _MAC.match(mac):
                raise InvalidSpec(f"MAC address {self.mac!r} is not of the form 52:54:00:12:34:56.")
            if int(mac[:2], 16) & 1:
                raise InvalidSpec(f"MAC address {self.mac!r} is a multicast address; a NIC needs a unicast one.")
            object.__setattr__(self, "mac", mac)


# How many characters of a password each graphics protocol's authentication
# uses (VNC's DES takes 8; libvirt refuses longer ones).
GRAPHICS_PASSWORD_LENGTHS = {"vnc": 8, "spice": 24}
# When a locked graphics device's password expired: long before any client asks.
GRAPHICS_LOCKED_VALID_TO = "1970-01-01T00:00:01"
_PASSWORD_ALPHABET = string.ascii_letters + string.digits


def random_graphics_password(kind: str) -> str:
    """A fresh random password as long as ``kind``'s authentication uses
    (VNC: 8 letters and digits, ~47 bits, all that DES takes)."""
    return "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(GRAPHICS_PASSWORD_LENGTHS[kind]))


@dataclass(frozen=True)
class GraphicsSpec:
    type: str = "vnc"
    listen: str = "127.0.0.1"
    port: int = -1  # -1: libvirt picks a free port (autoport)
    password: str | None = None
    # Locked: password authentication on, with a random password that expired
    # long ago, so nobody gets in until a one-time password is set on the
    # running domain (hypervisor.consoles).
    locked: bool = False

    def __post_init__(self) -> None:
        _one_of("Graphics type", self.type, GRAPHICS_TYPES)
        if self.locked and self.password is not None:
            raise InvalidSpec("A locked graphics device takes no password: it gets one-time passwords.")
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
    # A pty (interactive console) can also keep a copy of what the guest
    # printed, written by libvirt on the host: the boot log.
    log_path: str | None = None

    def __post_init__(self) -> None:
        _one_of("Serial type", self.type, SERIAL_TYPES)
        if self.log_path is not None:
            _xml_text("Serial log path", self.log_path, single_line=True)
            if self.type != "pty" or not self.log_path.startswith("/"):
                raise InvalidSpec(f"Only a pty serial port keeps a log, at an absolute path, not {self.log_path!r}.")
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
    serials: tuple[SerialSpec, ...] = ()  # the first one is also the guest's console
    smbios_serial: str | None = None  # shown to the guest as its SMBIOS system serial
    smbios_family: str | None = None  # ... and as its SMBIOS system family
    video_model: str | None = "vga"  # None: no <video>, libvirt's default applies (none when headless)
    acpi: bool = True  # graceful shutdown needs ACPI
    on_poweroff: str = "destroy"
    on_reboot: str = "restart"
    on_crash: str = "destroy"
    # Firmware and boot.
    boot_menu: bool = False
    kernel: str | None = None  # direct kernel boot: a kernel file on the host
    initrd: str | None = None  # ... its initrd (needs a kernel)
    cmdline: str = ""  # ... its command line (needs a kernel)
    # CPU, memory and their placement on the host.
    cpu_mode: str | None = None  # None: the hypervisor's default CPU model
    cpu_model: str | None = None  # with cpu_mode "custom" only
    numa_cells: tuple[GuestNumaCell, ...] = ()  # the guest's NUMA topology; (): one flat node
    vcpu_pins: tuple[VcpuPin, ...] = ()
    hugepages: bool = False  # back guest memory with the host's huge pages
    # Live resizing. ``memory_mb`` and ``topology`` are what the guest has at
    # start; with ``max_memory_mb`` memory grows while it runs by DIMMs plugged
    # into ``memory_slots`` slots (libvirt then needs guest NUMA cells), and with
    # ``max_vcpus`` vCPUs are plugged by whole sockets up to that many (the XML's
    # topology then describes the maximum, <vcpu current=...> what runs).
    max_memory_mb: int | None = None
    memory_slots: int = 0
    max_vcpus: int | None = None
    iothreads: int = 0  # IO threads for disks to use (DiskSpec.iothread)
    # Clock and Hyper-V.
    clock_offset: str = "utc"  # "localtime": the RTC keeps local time (Windows)
    timers: tuple[TimerSpec, ...] = ()
    hyperv: tuple[str, ...] = ()  # Hyper-V enlightenments (HYPERV_FEATURES), spinlocks at 8191 retries
    # Devices beyond disks, NICs, consoles.
    usb: bool = True  # a USB controller plus a tablet (absolute pointer); False: no USB at all
    sound_model: str | None = None  # None: no sound card
    memballoon: bool = True  # virtio balloon; False: none (memory cannot be ballooned)
    rng: bool = False  # virtio-rng fed from the host's /dev/urandom
    guest_agent: bool = False  # the virtio channel qemu-guest-agent listens on
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
        for what, flag in (
            ("ACPI", self.acpi), ("Boot menu", self.boot_menu), ("Huge pages", self.hugepages), ("USB", self.usb),
            ("Memory balloon", self.memballoon), ("Random number device", self.rng), ("Guest agent", self.guest_agent),
        ):  # fmt: skip
            _flag(what, flag)
        self._check_devices()
        self._check_boot()
        self._check_cpu()
        self._check_live_limits()
        self._check_clock()
        if self.smbios_serial is not None:
            _xml_text("SMBIOS serial", self.smbios_serial, single_line=True)
        if self.smbios_family is not None:
            _xml_text("SMBIOS family", self.smbios_family, single_line=True)
        if self.video_model is not None:
            _one_of("Video model", self.video_model, VIDEO_MODELS)
        if self.sound_model is not None:
            _one_of("Sound model", self.sound_model, SOUND_MODELS)
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
        for name in ("boot_devices", "disks", "nics", "graphics", "serials", "numa_cells", "vcpu_pins", "timers"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        object.__setattr__(self, "metadata", MappingProxyType(dict(self.metadata)))
        # libvirt writes pins by vCPU and enlightenments in its own order: so do we.
        pins = self.vcpu_pins
        if all(isinstance(pin, VcpuPin) for pin in pins):
            object.__setattr__(self, "vcpu_pins", tuple(sorted(pins, key=lambda pin: pin.vcpu)))
        hyperv = tuple(self.hyperv)
        for feature in hyperv:
            _one_of("Hyper-V enlightenment", feature, frozenset(HYPERV_FEATURES))
        if len(set(hyperv)) != len(hyperv):
            raise InvalidSpec("Each Hyper-V enlightenment may appear only once.")
        object.__setattr__(self, "hyperv", tuple(f for f in HYPERV_FEATURES if f in hyperv))

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
        orders = [d.boot_order for d in (*self.disks, *self.nics) if d.boot_order is not None]
        if self.boot_devices and orders:
            # libvirt refuses to mix <os><boot dev=...> with per-device <boot order=...>.
            raise InvalidSpec("Give either boot devices or per-device boot orders, not both.")
        if len(set(orders)) != len(orders):
            raise InvalidSpec(f"Two devices have the same boot order: {sorted(orders)}.")
        if self.kernel is not None:
            _absolute_path("Kernel path", self.kernel)
        if self.initrd is not None:
            _absolute_path("Initrd path", self.initrd)
        _xml_text("Kernel command line", self.cmdline, single_line=True)
        if self.kernel is None and (self.initrd is not None or self.cmdline):
            raise InvalidSpec("An initrd or a kernel command line needs a kernel to boot.")

    def _check_devices(self) -> None:
        kinds = (("disk", self.disks, DiskSpec), ("NIC", self.nics, NicSpec))
        kinds += (("graphics", self.graphics, GraphicsSpec), ("serial", self.serials, SerialSpec))
        kinds += (("guest NUMA cell", self.numa_cells, GuestNumaCell), ("vCPU pin", self.vcpu_pins, VcpuPin))
        kinds += (("timer", self.timers, TimerSpec),)
        for label, items, kind in kinds:
            for item in items:
                if not isinstance(item, kind):
                    raise InvalidSpec(f"Each {label} must be a {kind.__name__}, not {type(item).__name__}.")
        if len({g.type for g in self.graphics}) != len(self.graphics):
            raise InvalidSpec("At most one graphics device of each type.")
        if isinstance(self.iothreads, bool) or not isinstance(self.iothreads, int) or self.iothreads < 0:
            raise InvalidSpec(f"IO threads must be a whole number from 0 up, not {self.iothreads!r}.")
        for disk in self.disks:
            if disk.iothread is not None and disk.iothread > self.iothreads:
                raise InvalidSpec(
                    f"Disk {disk.path or disk.target!r} uses IO thread {disk.iothread}, "
                    f"but the domain has {self.iothreads}."
                )

    def _check_cpu(self) -> None:
        if self.cpu_mode is not None:
            _one_of("CPU mode", self.cpu_mode, CPU_MODES)
        if self.cpu_mode == "custom":
            if not self.cpu_model:
                raise InvalidSpec("CPU mode custom needs a CPU model.")
            _xml_text("CPU model", self.cpu_model, single_line=True)
        elif self.cpu_model is not None:
            raise InvalidSpec(f"A CPU model goes only with CPU mode custom, not {self.cpu_mode!r}.")
        vcpus = self.vcpus
        pinned = [pin.vcpu for pin in self.vcpu_pins]
        if len(set(pinned)) != len(pinned):
            raise InvalidSpec("Each vCPU may be pinned only once.")
        if pinned and max(pinned) >= vcpus:
            raise InvalidSpec(f"vCPU {max(pinned)} is pinned, but the domain has only vCPUs 0-{vcpus - 1}.")
        self._check_numa(vcpus)

    def _check_numa(self, vcpus: int) -> None:
        cells = self.numa_cells
        if not cells:
            return
        if [cell.index for cell in cells] != list(range(len(cells))):
            raise InvalidSpec("Guest NUMA cells must be numbered 0, 1, 2... in order.")
        shared = sorted(cpu for cell in cells for cpu in cell.cpus)
        slots = self.max_vcpus or vcpus  # hot-pluggable vCPUs belong to a cell too
        if shared != list(range(slots)):
            raise InvalidSpec(f"The guest NUMA cells must hold each of the vCPUs 0-{slots - 1} exactly once.")
        total = sum(cell.memory_mb for cell in cells)
        # A running domain's <memory> also counts the DIMMs plugged into it.
        if total != self.memory_mb and not (self.max_memory_mb and total < self.memory_mb):
            raise InvalidSpec(
                f"The guest NUMA cells' memory adds up to {total} MiB, not the domain's {self.memory_mb} MiB."
            )
        if len({bool(cell.host_nodes) for cell in cells}) > 1:
            # Unbound cells would fall under the strict binding the bound ones imply.
            raise InvalidSpec("Bind either every guest NUMA cell to host nodes or none.")

    def _check_live_limits(self) -> None:
        if self.max_memory_mb is not None:
            _positive_int("Maximum memory (MiB)", self.max_memory_mb)
            _positive_int("Memory slots", self.memory_slots)
            if self.max_memory_mb < self.memory_mb:
                raise InvalidSpec(f"The maximum memory ({self.max_memory_mb} MiB) is less than the memory "
                                  f"({self.memory_mb} MiB).")
            if not self.numa_cells:
                # libvirt: "At least one numa node has to be configured when enabling memory hotplug".
                raise InvalidSpec("Memory hot-plug (a maximum memory) needs at least one guest NUMA cell.")
        elif self.memory_slots:
            raise InvalidSpec("Memory slots go only with a maximum memory.")
        if self.max_vcpus is not None:
            _positive_int("Maximum vCPUs", self.max_vcpus)
            per_socket = self.topology.cores * self.topology.threads
            if self.max_vcpus < self.vcpus or self.max_vcpus % per_socket:
                raise InvalidSpec(f"The maximum vCPUs ({self.max_vcpus}) must be whole sockets of {per_socket} "
                                  f"and at least the {self.vcpus} vCPUs the domain has.")
            if self.vcpu_pins:
                raise InvalidSpec("Pinned vCPUs cannot be combined with hot-pluggable ones.")

    def _check_clock(self) -> None:
        _one_of("Clock offset", self.clock_offset, CLOCK_OFFSETS)
        names = [timer.name for timer in self.timers]
        if len(set(names)) != len(names):
            raise InvalidSpec("Each timer may appear only once.")
        for feature, needs in HYPERV_NEEDS.items():
            if feature in self.hyperv and needs not in self.hyperv:
                raise InvalidSpec(f"The Hyper-V enlightenment {feature} needs {needs}.")
        if "stimer" in self.hyperv and not any(t.name == "hypervclock" and t.present for t in self.timers):
            raise InvalidSpec("The Hyper-V enlightenment stimer needs the hypervclock timer present.")


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
