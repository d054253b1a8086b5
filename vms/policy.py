"""What an OS type and an optimization profile imply, as a DomainSpec.

The ONE place that decides it (the wizard shows PROFILE_EFFECTS, the services call
``domain_spec_for``); ``hypervisor.domain_xml`` only writes what it is handed.
Pure Python on purpose: no Django, no libvirt, so the rules are tested as plain
functions and pinned by golden XML files (tests/vms/golden).

Rules that come from the hypervisor rather than from taste, found on these hosts
(libvirt 9.0, QEMU 7.2):

- TCG (domain type "qemu") refuses host-passthrough ("CPU mode 'host-passthrough'
  ... is not supported by hypervisor"); "maximum" is its equivalent: every
  feature the emulator can give.
- TCG refuses the Hyper-V vpindex enlightenment ("kernel doesn't allow setting
  HyperV VP_INDEX"); synic needs vpindex and stimer needs synic, so the three go
  together. The rest (relaxed, vapic, spinlocks, reset, frequencies, the
  hypervclock timer) start fine under TCG.
- libvirt's test driver takes everything here, including host-passthrough.
- Memory hot-plug (<maxMemory slots=...>) needs at least one guest NUMA cell
  ("At least one numa node has to be configured when enabling memory hotplug"):
  a VM that may grow gets one flat cell holding all its vCPUs and memory. Under
  TCG a DIMM plugs live and vCPUs plug up to <vcpu>'s maximum.
- A guest of 128 MiB with any memory hot-plug range (even 512 MiB) panics at
  boot ("System is deadlocked on memory"); 256 MiB with room for 1 GiB boots.
  Below MEMORY_HOTPLUG_MINIMUM_MB a VM gets no memory ceiling.
- High performance VMs get no hot-plug: their vCPUs are pinned and their
  memory bound to the host NUMA nodes chosen at start, which a plugged vCPU or
  DIMM would escape; their changes wait for the next start.
- Huge pages are never asked for: a host needs hugetlbfs mounted and pages
  reserved first (these hosts have neither, and libvirt then refuses to start:
  "hugetlbfs filesystem is not mounted"), and HostTraits cannot say whether a
  host has free huge pages. Once host facts carry that, high_performance can set
  ``hugepages`` when the VM's memory fits in them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import combinations
from types import MappingProxyType

from hypervisor.specs import (
    DISK_BUS_PREFIXES,
    DOMAIN_TYPES,
    HYPERV_FEATURES,
    NIC_MODELS,
    CpuTopology,
    DiskSpec,
    DomainSpec,
    GraphicsSpec,
    GuestNumaCell,
    InvalidSpec,
    NicSpec,
    NumaCell,
    SerialSpec,
    TimerSpec,
    VcpuPin,
)

OPTIMIZATIONS = ("desktop", "server", "high_performance")
CONSOLES = ("vnc", "spice", "none")
OS_FAMILIES = ("linux", "windows", "other")
RUN_ONCE_BOOT_DEVICES = ("hd", "cdrom", "network")
BOOT_DEVICES = RUN_ONCE_BOOT_DEVICES  # a VM's own boot order is a sequence of these
# DIMM slots of a VM whose memory may grow live: each live growth takes one.
MEMORY_SLOTS = 16
MEMORY_HOTPLUG_MINIMUM_MB = 256

DESKTOP_SOUND_MODEL = "ich9"
SERVER_IOTHREADS = 1
# libvirt's own log directory on every host (virtlogd writes there).
SERIAL_LOG_DIR = "/var/log/libvirt/qemu"

# Under TCG (see the module's docstring) the vpindex family is left out.
HYPERV_KVM: tuple[str, ...] = HYPERV_FEATURES
HYPERV_TCG: tuple[str, ...] = tuple(f for f in HYPERV_FEATURES if f not in ("vpindex", "synic", "stimer"))
# Windows keeps time by ticks it expects to get: late RTC ticks are caught up, late
# PIT ticks delivered late, and the HPET (which Windows mis-drives) is hidden.
WINDOWS_TIMERS: tuple[TimerSpec, ...] = (
    TimerSpec("rtc", tickpolicy="catchup"),
    TimerSpec("pit", tickpolicy="delay"),
    TimerSpec("hpet", present=False),
)
HYPERV_CLOCK = TimerSpec("hypervclock", present=True)

# One plain-English sentence per effect, for the wizard's step 3.
PROFILE_EFFECTS: dict[str, tuple[str, ...]] = {
    "desktop": (
        "Adds a sound card (Intel HD Audio).",
        "Adds a USB controller with a tablet, so the mouse follows the pointer in the console.",
        "Adds a memory balloon, so the host can take back memory the guest does not use.",
        "Shows the console you chose (VNC or SPICE).",
    ),
    "server": (
        "Leaves out the sound card.",
        "Adds a USB controller with a tablet, so the mouse follows the pointer in the console.",
        "Gives the disks their own IO thread, so disk work does not wait on the vCPUs.",
        "Adds a memory balloon, so the host can take back memory the guest does not use.",
        "Shows the console you chose (VNC or SPICE).",
    ),
    "high_performance": (
        "Runs headless: no graphical console and no video card, only a serial console.",
        "Passes the host's CPU through to the guest (under emulation: every CPU feature the emulator has).",
        "Leaves out the memory balloon: the VM's memory is never taken back.",
        "Leaves out USB, the tablet, sound and the watchdog.",
        "Gives the disks their own IO thread.",
        "Adds a virtio random number generator fed by the host.",
        "Places vCPUs and memory on as few host NUMA nodes as fit, with matching guest NUMA nodes, "
        "and pins each vCPU to a host CPU of its node.",
    ),
}

# How a VM made from a template gets its disks when it is not said: a desktop
# shares the template's disks (thin: a qcow2 overlay, made at once, many
# alike), a server or a high performance VM gets its own standalone copy (clone:
# no IO through a backing chain, and it outlives the template).
PROVISIONING_BY_PROFILE: dict[str, str] = {"desktop": "thin", "server": "clone", "high_performance": "clone"}


def default_provisioning(optimization: str) -> str:
    """Thin or clone, for a VM from a template with this optimization profile."""
    _choice("Optimization", optimization, OPTIMIZATIONS)
    return PROVISIONING_BY_PROFILE[optimization]


def _choice(what: str, value: object, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise InvalidSpec(f"{what} must be one of {', '.join(allowed)}, not {value!r}.")


@dataclass(frozen=True)
class OsProfile:
    """What the OS catalogue says about an OS type."""

    short_id: str
    family: str  # "linux" | "windows" | "other"
    virtio: bool  # has paravirtual drivers (disk, NIC, balloon, rng, agent channel)
    disk_bus: str
    nic_model: str
    video_model: str
    clock_offset: str  # "utc" | "localtime"
    hyperv: bool
    guest_agent: bool

    def __post_init__(self) -> None:
        _choice("OS family", self.family, OS_FAMILIES)
        _choice("OS disk bus", self.disk_bus, tuple(sorted(DISK_BUS_PREFIXES)))
        _choice("OS NIC model", self.nic_model, tuple(sorted(NIC_MODELS)))
        _choice("OS clock offset", self.clock_offset, ("utc", "localtime"))


@dataclass(frozen=True)
class PlannedDisk:
    path: str
    format: str
    bootable: bool = False
    bus: str | None = None  # None: the OS default


@dataclass(frozen=True)
class PlannedNic:
    mac: str
    bridge: str | None = None
    network: str | None = None
    model: str | None = None  # None: the OS default


@dataclass(frozen=True)
class BootOverride:
    """Run Once: how to start this one time. Never saved."""

    boot_device: str = "hd"  # hd | cdrom | network
    iso_path: str | None = None  # put in a CD-ROM drive (booted first with boot_device "cdrom")
    kernel: str | None = None  # direct kernel boot
    initrd: str | None = None
    cmdline: str = ""
    boot_menu: bool = False
    console: str | None = None  # vnc | spice overrides the VM's

    def __post_init__(self) -> None:
        _choice("Run Once boot device", self.boot_device, RUN_ONCE_BOOT_DEVICES)
        if self.boot_device == "cdrom" and not self.iso_path:
            raise InvalidSpec("Booting from CD needs an ISO image.")
        if self.console is not None:
            _choice("Run Once console", self.console, ("vnc", "spice"))


@dataclass(frozen=True)
class HostTraits:
    """What the policy needs to know about the host the VM will run on."""

    domain_type: str  # kvm | qemu (TCG) | test
    numa_cells: tuple[NumaCell, ...] = ()

    def __post_init__(self) -> None:
        _choice("Domain type", self.domain_type, tuple(sorted(DOMAIN_TYPES)))
        object.__setattr__(self, "numa_cells", tuple(self.numa_cells))


@dataclass(frozen=True)
class VmPlan:
    """The wizard's answers: one VM, before policy turns it into a DomainSpec."""

    name: str
    uuid: str
    memory_mb: int
    topology: CpuTopology
    optimization: str  # desktop | server | high_performance
    os: OsProfile
    disks: tuple[PlannedDisk, ...] = ()
    nics: tuple[PlannedNic, ...] = ()
    console: str = "vnc"  # vnc | spice | none
    description: str = ""
    smbios_serial: str | None = None
    smbios_family: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict, hash=False)
    boot_order: tuple[str, ...] = ("hd",)  # the devices it boots from, first to last
    # How far memory and vCPUs may grow while it runs (None: not at all).
    max_memory_mb: int | None = None
    max_vcpus: int | None = None
    # The first-boot config drive (an ISO), attached until the first start has happened.
    config_drive: str | None = None

    def __post_init__(self) -> None:
        _choice("Optimization", self.optimization, OPTIMIZATIONS)
        _choice("Console", self.console, CONSOLES)
        object.__setattr__(self, "boot_order", tuple(self.boot_order))
        for device in self.boot_order:
            _choice("Boot device", device, BOOT_DEVICES)
        object.__setattr__(self, "disks", tuple(self.disks))
        object.__setattr__(self, "nics", tuple(self.nics))
        object.__setattr__(self, "metadata", MappingProxyType(dict(self.metadata)))


def serial_log_path(vm_uuid: str) -> str:
    """Where the host keeps what the VM printed on its serial console."""
    return f"{SERIAL_LOG_DIR}/{vm_uuid}-serial.log"


def domain_spec_for(plan: VmPlan, host: HostTraits, boot: BootOverride | None = None) -> DomainSpec:
    """The domain ``plan`` becomes on ``host``, started as ``boot`` says (Run Once)."""
    boot = boot or BootOverride()
    os = plan.os
    optimization = plan.optimization
    high_performance = optimization == "high_performance"
    iothreads = 0 if optimization == "desktop" else SERVER_IOTHREADS

    disks, nics = _devices(plan, boot, iothreads)
    console = boot.console or ("none" if high_performance else plan.console)
    # Locked: nobody reaches the console without a one-time password the
    # portal sets when it hands one out (consoles/, hypervisor/consoles.py).
    graphics = () if console == "none" else (GraphicsSpec(type=console, locked=True),)
    numa_cells: tuple[GuestNumaCell, ...] = ()
    vcpu_pins: tuple[VcpuPin, ...] = ()
    if high_performance and host.numa_cells:
        numa_cells, vcpu_pins = numa_placement(plan.topology.total, plan.memory_mb, host.numa_cells)
    max_memory_mb = max_vcpus = None
    if not high_performance:
        max_memory_mb, max_vcpus = plan.max_memory_mb, plan.max_vcpus
    if plan.memory_mb < MEMORY_HOTPLUG_MINIMUM_MB:
        max_memory_mb = None
    if max_memory_mb is not None and not numa_cells:
        vcpu_slots = tuple(range(max_vcpus or plan.topology.total))
        numa_cells = (GuestNumaCell(0, vcpu_slots, plan.memory_mb),)

    timers: tuple[TimerSpec, ...] = WINDOWS_TIMERS if os.family == "windows" else ()
    if os.hyperv:
        timers += (HYPERV_CLOCK,)
    has_orders = any(d.boot_order for d in disks) or any(n.boot_order for n in nics)
    return DomainSpec(
        name=plan.name,
        uuid=plan.uuid,
        description=plan.description,
        memory_mb=plan.memory_mb,
        topology=plan.topology,
        domain_type=host.domain_type,
        # Per-device boot orders when anything is ordered; else libvirt's default.
        boot_devices=() if has_orders else ("hd",),
        boot_menu=boot.boot_menu,
        kernel=boot.kernel,
        initrd=boot.initrd,
        cmdline=boot.cmdline,
        disks=disks,
        nics=nics,
        graphics=graphics,
        video_model=os.video_model if graphics else None,
        # Every VM has a serial console; its output is kept on the host as the boot log.
        serials=(SerialSpec(type="pty", log_path=serial_log_path(plan.uuid)),),
        smbios_serial=plan.smbios_serial,
        smbios_family=plan.smbios_family,
        cpu_mode=_cpu_mode(host.domain_type) if high_performance else None,
        numa_cells=numa_cells,
        vcpu_pins=vcpu_pins,
        max_memory_mb=max_memory_mb,
        memory_slots=MEMORY_SLOTS if max_memory_mb is not None else 0,
        max_vcpus=max_vcpus,
        iothreads=iothreads,
        clock_offset=os.clock_offset,
        timers=timers,
        hyperv=(HYPERV_TCG if host.domain_type == "qemu" else HYPERV_KVM) if os.hyperv else (),
        usb=not high_performance,
        sound_model=DESKTOP_SOUND_MODEL if optimization == "desktop" else None,
        # Balloon, rng and the agent's channel are virtio devices: useless to a
        # guest without virtio drivers.
        memballoon=os.virtio and not high_performance,
        rng=os.virtio and high_performance,
        guest_agent=os.guest_agent and os.virtio,
        metadata=plan.metadata,
    )


def _cpu_mode(domain_type: str) -> str:
    """Host CPU pass-through, or its closest equivalent where there is no host CPU to pass."""
    return "maximum" if domain_type == "qemu" else "host-passthrough"


def _devices(plan: VmPlan, boot: BootOverride, iothreads: int) -> tuple[tuple[DiskSpec, ...], tuple[NicSpec, ...]]:
    """Disks and NICs with the OS's buses and models, and the boot order.

    Boot order: the Run Once device first (the CD-ROM, or the first NIC), then
    the VM's own order: "hd" is its bootable disks in the plan's order,
    "network" its first NIC, "cdrom" a CD-ROM drive (empty unless Run Once put
    an ISO in it). A device the VM does not have is left out.
    """
    os = plan.os
    if boot.boot_device == "network" and not plan.nics:
        raise InvalidSpec("Booting from the network needs a network interface.")
    has_cdrom = bool(boot.iso_path) or "cdrom" in plan.boot_order
    sequence = [] if boot.boot_device == "hd" else [boot.boot_device]
    sequence += [device for device in plan.boot_order if device not in sequence]
    disk_orders: dict[int, int] = {}
    nic_order = cdrom_order = None
    counter = 1
    for device in sequence:
        if device == "hd":
            for index, disk in enumerate(plan.disks):
                if disk.bootable:
                    disk_orders[index], counter = counter, counter + 1
        elif device == "network" and plan.nics:
            nic_order, counter = counter, counter + 1
        elif device == "cdrom" and has_cdrom:
            cdrom_order, counter = counter, counter + 1
    nics = []
    for i, nic in enumerate(plan.nics):
        model = nic.model or os.nic_model
        order = nic_order if i == 0 else None
        nics.append(NicSpec(network=nic.network, bridge=nic.bridge, model=model, mac=nic.mac, boot_order=order))
    disks = []
    for index, disk in enumerate(plan.disks):
        bus = disk.bus or os.disk_bus
        iothread = 1 if iothreads and bus == "virtio" else None  # only virtio disks can use one
        disks.append(DiskSpec(disk.path, format=disk.format, bus=bus, boot_order=disk_orders.get(index),
                              iothread=iothread))
    if has_cdrom:
        # Old OSes may have no SATA driver either: their CD-ROM goes where their disk goes.
        cdrom_bus = "ide" if os.disk_bus == "ide" else "sata"
        disks.append(DiskSpec(boot.iso_path, format="raw", bus=cdrom_bus, device="cdrom", boot_order=cdrom_order))
    if plan.config_drive:
        # On IDE, the CD-ROM bus every x86 guest kernel drives from its first
        # boot (the pc machine's own controller; cloud kernels leave AHCI out).
        disks.append(DiskSpec(plan.config_drive, format="raw", bus="ide", device="cdrom"))
    return tuple(disks), tuple(nics)


def numa_placement(
    vcpus: int, memory_mb: int, host_cells: tuple[NumaCell, ...]
) -> tuple[tuple[GuestNumaCell, ...], tuple[VcpuPin, ...]]:
    """Guest NUMA cells bound to as few host cells as hold the VM, and vCPU pins.

    The fewest host cells whose CPUs and memory both suffice (the lowest-numbered
    such set); the VM's vCPUs and memory are shared out as evenly as those cells
    allow, one guest cell per host cell, and the n-th vCPU of a cell is pinned to
    the n-th CPU of its host cell (one host CPU per vCPU). A VM bigger than the
    whole host gets no placement at all: pinning several vCPUs to one CPU would
    cost more than it gains (and the scheduler does not place such a VM).
    """
    usable = [cell for cell in host_cells if cell.cpus and cell.memory_mb > 0]
    chosen: tuple[NumaCell, ...] = ()
    for count in range(1, len(usable) + 1):
        for group in combinations(usable, count):
            if sum(len(c.cpus) for c in group) >= vcpus and sum(c.memory_mb for c in group) >= memory_mb:
                chosen = group
                break
        if chosen:
            break
    if not chosen:
        return (), ()
    cpu_shares = _share_out(vcpus, [len(c.cpus) for c in chosen])
    memory_shares = _share_out(memory_mb, [c.memory_mb for c in chosen])
    cells, pins = [], []
    first_vcpu = 0
    for index, (host_cell, cpu_count, memory) in enumerate(zip(chosen, cpu_shares, memory_shares, strict=True)):
        guest_vcpus = tuple(range(first_vcpu, first_vcpu + cpu_count))
        cells.append(GuestNumaCell(index, guest_vcpus, memory, host_nodes=(host_cell.index,)))
        host_cpus = sorted(host_cell.cpus)
        pins += [VcpuPin(vcpu, (host_cpus[n],)) for n, vcpu in enumerate(guest_vcpus)]
        first_vcpu += cpu_count
    return tuple(cells), tuple(pins)


def _share_out(total: int, capacities: list[int]) -> list[int]:
    """``total`` split as evenly as possible without exceeding any capacity."""
    shares = [0] * len(capacities)
    remaining = total
    while remaining > 0:
        room = [i for i, cap in enumerate(capacities) if shares[i] < cap]
        each, extra = divmod(remaining, len(room))
        for position, i in enumerate(room):
            add = min(each + (position < extra), capacities[i] - shares[i])
            shares[i] += add
            remaining -= add
    return shares
