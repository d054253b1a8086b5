"""The one builder and the one parser of libvirt domain XML.

``parse_domain_xml(build_domain_xml(spec)) == spec`` for every spec. The parser
also reads what libvirt hands back (``virsh dumpxml``), which normalizes units to
KiB and adds defaults, and refuses devices a spec cannot describe rather than
silently dropping them. Text goes into the tree through lxml, which escapes it.
Elements are written in the order libvirt writes them back, so our XML and
libvirt's read alike.

Read but not carried into a spec (libvirt adds them or they follow from the
spec): addresses, the machine's own controllers, PS/2 inputs, <audio>, the
<console> that mirrors the first serial port, <numatune><memory> (the union of
the cells' nodes), and Hyper-V enlightenments other than HYPERV_FEATURES.
libvirt names the defaults it chose, and those parse as named: the machine type,
and for a spec without a CPU mode the default model (mode custom, qemu64 under
TCG). A running host-model domain reports its expanded model (mode custom) too.
"""

from __future__ import annotations

from lxml import etree

from hypervisor.errors import InvalidXML
from hypervisor.specs import (
    GRAPHICS_LOCKED_VALID_TO,
    HYPERV_FEATURES,
    HYPERV_SPINLOCK_RETRIES,
    CpuTopology,
    DiskSpec,
    DomainSpec,
    GraphicsSpec,
    GuestNumaCell,
    NicSpec,
    SerialSpec,
    TimerSpec,
    VcpuPin,
    format_id_set,
    parse_id_set,
    random_graphics_password,
)

# Our own namespace under <metadata>, so the portal can recognise the domains it
# owns and keep its tags without clashing with other management tools.
PORTAL_NS = "urn:portal:vm:1"
PORTAL_PREFIX = "portal"
# The virtio-serial port qemu-guest-agent listens on inside the guest.
GUEST_AGENT_CHANNEL = "org.qemu.guest_agent.0"

_UNIT_BYTES = {
    "b": 1, "bytes": 1,
    "k": 1024, "kib": 1024, "kb": 1000,
    "m": 1024**2, "mib": 1024**2, "mb": 1000**2,
    "g": 1024**3, "gib": 1024**3, "gb": 1000**3,
    "t": 1024**4, "tib": 1024**4, "tb": 1000**4,
}  # fmt: skip

_SAFE_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=True)


def build_domain_xml(spec: DomainSpec) -> str:
    root = etree.Element("domain", type=spec.domain_type)
    _text(root, "name", spec.name)
    if spec.uuid:
        _text(root, "uuid", spec.uuid)
    if spec.title:
        _text(root, "title", spec.title)
    if spec.description:
        _text(root, "description", spec.description)
    if spec.metadata:
        _build_metadata(root, spec)
    if spec.max_memory_mb is not None:
        _text(root, "maxMemory", str(spec.max_memory_mb), slots=str(spec.memory_slots), unit="MiB")
    _text(root, "memory", str(spec.memory_mb), unit="MiB")
    _text(root, "currentMemory", str(spec.memory_mb), unit="MiB")
    if spec.hugepages:
        etree.SubElement(etree.SubElement(root, "memoryBacking"), "hugepages")
    if spec.max_vcpus is not None:
        _text(root, "vcpu", str(spec.max_vcpus), placement="static", current=str(spec.vcpus))
    else:
        _text(root, "vcpu", str(spec.vcpus), placement="static")
    if spec.iothreads:
        _text(root, "iothreads", str(spec.iothreads))
    _build_placement(root, spec)
    if spec.smbios_serial is not None or spec.smbios_family is not None:
        system = etree.SubElement(etree.SubElement(root, "sysinfo", type="smbios"), "system")
        if spec.smbios_serial is not None:
            _text(system, "entry", spec.smbios_serial, name="serial")
        if spec.smbios_family is not None:
            _text(system, "entry", spec.smbios_family, name="family")
    _build_os(root, spec)
    _build_features(root, spec)
    _build_cpu(root, spec)
    clock = etree.SubElement(root, "clock", offset=spec.clock_offset)
    for timer in spec.timers:
        element = etree.SubElement(clock, "timer", name=timer.name)
        if timer.tickpolicy is not None:
            element.set("tickpolicy", timer.tickpolicy)
        if timer.present is not None:
            element.set("present", "yes" if timer.present else "no")
    _text(root, "on_poweroff", spec.on_poweroff)
    _text(root, "on_reboot", spec.on_reboot)
    _text(root, "on_crash", spec.on_crash)
    _build_devices(root, spec)
    return etree.tostring(root, encoding="unicode", pretty_print=True)


def _text(parent: etree._Element, tag: str, text: str, **attrs: str) -> etree._Element:
    element = etree.SubElement(parent, tag, **attrs)
    element.text = text
    return element


def _build_metadata(root: etree._Element, spec: DomainSpec) -> None:
    portal = etree.SubElement(
        etree.SubElement(root, "metadata"), f"{{{PORTAL_NS}}}vm", nsmap={PORTAL_PREFIX: PORTAL_NS}
    )
    for key in sorted(spec.metadata):  # sorted: the same spec always gives the same XML
        _text(portal, f"{{{PORTAL_NS}}}entry", spec.metadata[key], key=key)


def _build_placement(root: etree._Element, spec: DomainSpec) -> None:
    if spec.vcpu_pins:
        cputune = etree.SubElement(root, "cputune")
        for pin in spec.vcpu_pins:
            etree.SubElement(cputune, "vcpupin", vcpu=str(pin.vcpu), cpuset=format_id_set(pin.cpus))
    bound = [cell for cell in spec.numa_cells if cell.host_nodes]
    if bound:
        numatune = etree.SubElement(root, "numatune")
        # Everything else QEMU allocates (its own threads, devices) stays on the same nodes.
        nodes = sorted({node for cell in bound for node in cell.host_nodes})
        etree.SubElement(numatune, "memory", mode="strict", nodeset=format_id_set(tuple(nodes)))
        for cell in bound:
            etree.SubElement(
                numatune, "memnode", cellid=str(cell.index), mode="strict", nodeset=format_id_set(cell.host_nodes)
            )


def _build_os(root: etree._Element, spec: DomainSpec) -> None:
    os_element = etree.SubElement(root, "os")
    os_type = _text(os_element, "type", spec.os_type, arch=spec.arch)
    if spec.machine:
        os_type.set("machine", spec.machine)
    if spec.kernel is not None:
        _text(os_element, "kernel", spec.kernel)
    if spec.initrd is not None:
        _text(os_element, "initrd", spec.initrd)
    if spec.cmdline:
        _text(os_element, "cmdline", spec.cmdline)
    for device in spec.boot_devices:
        etree.SubElement(os_element, "boot", dev=device)
    if spec.boot_menu:
        etree.SubElement(os_element, "bootmenu", enable="yes")
    if spec.smbios_serial is not None or spec.smbios_family is not None:
        etree.SubElement(os_element, "smbios", mode="sysinfo")


def _build_features(root: etree._Element, spec: DomainSpec) -> None:
    if not (spec.acpi or spec.hyperv):
        return
    features = etree.SubElement(root, "features")
    if spec.acpi:
        etree.SubElement(features, "acpi")
        etree.SubElement(features, "apic")
    if spec.hyperv:
        hyperv = etree.SubElement(features, "hyperv", mode="custom")
        for feature in spec.hyperv:
            element = etree.SubElement(hyperv, feature, state="on")
            if feature == "spinlocks":
                element.set("retries", str(HYPERV_SPINLOCK_RETRIES))


def _build_cpu(root: etree._Element, spec: DomainSpec) -> None:
    cpu = etree.SubElement(root, "cpu")
    if spec.cpu_mode is not None:
        cpu.set("mode", spec.cpu_mode)
    if spec.cpu_model is not None:
        _text(cpu, "model", spec.cpu_model)
    per_socket = spec.topology.cores * spec.topology.threads
    etree.SubElement(
        cpu,
        "topology",
        # With hot-pluggable vCPUs the topology is the maximum's: libvirt wants
        # sockets x cores x threads to equal <vcpu>.
        sockets=str((spec.max_vcpus or spec.vcpus) // per_socket),
        cores=str(spec.topology.cores),
        threads=str(spec.topology.threads),
    )
    if spec.numa_cells:
        numa = etree.SubElement(cpu, "numa")
        for cell in spec.numa_cells:
            element = etree.SubElement(numa, "cell", id=str(cell.index))
            if cell.cpus:  # a memory-only cell has no cpus attribute
                element.set("cpus", format_id_set(cell.cpus))
            element.set("memory", str(cell.memory_mb))
            element.set("unit", "MiB")


def _build_devices(root: etree._Element, spec: DomainSpec) -> None:
    devices = etree.SubElement(root, "devices")
    for disk in spec.disks:
        _build_disk(devices, disk)
    if spec.usb:
        # No model: libvirt picks the machine's own (piix3-uhci on pc, qemu-xhci on
        # q35), which every guest OS can drive.
        etree.SubElement(devices, "controller", type="usb", index="0")
    else:
        etree.SubElement(devices, "controller", type="usb", index="0", model="none")
    for nic in spec.nics:
        _build_nic(devices, nic)
    for port, serial in enumerate(spec.serials):
        element = etree.SubElement(devices, "serial", type=serial.type)
        if serial.path is not None:
            etree.SubElement(element, "source", path=serial.path)
        if serial.log_path is not None:
            etree.SubElement(element, "log", file=serial.log_path, append="on")
        etree.SubElement(element, "target", port=str(port))
    if spec.serials:
        # The first serial port doubles as the guest's console; libvirt adds this
        # alias itself, written out so the XML shows where the console goes.
        first = spec.serials[0]
        console = etree.SubElement(devices, "console", type=first.type)
        if first.path is not None:
            etree.SubElement(console, "source", path=first.path)
        etree.SubElement(console, "target", type="serial", port="0")
    if spec.guest_agent:
        channel = etree.SubElement(devices, "channel", type="unix")
        etree.SubElement(channel, "target", type="virtio", name=GUEST_AGENT_CHANNEL)
    if spec.usb:
        etree.SubElement(devices, "input", type="tablet", bus="usb")
    for graphics in spec.graphics:
        _build_graphics(devices, graphics)
    if spec.sound_model is not None:
        etree.SubElement(devices, "sound", model=spec.sound_model)
    if spec.video_model is not None:
        etree.SubElement(etree.SubElement(devices, "video"), "model", type=spec.video_model)
    etree.SubElement(devices, "memballoon", model="virtio" if spec.memballoon else "none")
    if spec.rng:
        rng = etree.SubElement(devices, "rng", model="virtio")
        _text(rng, "backend", "/dev/urandom", model="random")


def build_disk_xml(disk: DiskSpec) -> str:
    """One <disk> element on its own, for hot-plugging it (attachDeviceFlags)."""
    holder = etree.Element("devices")
    _build_disk(holder, disk)
    return etree.tostring(holder[0], encoding="unicode")


def _build_disk(devices: etree._Element, disk: DiskSpec) -> None:
    element = etree.SubElement(devices, "disk", type="file", device=disk.device)
    driver = etree.SubElement(element, "driver", name="qemu", type=disk.format)
    if disk.iothread is not None:
        driver.set("iothread", str(disk.iothread))
    if disk.path is not None:  # a CD-ROM drive without a source has an empty tray
        etree.SubElement(element, "source", file=disk.path)
    etree.SubElement(element, "target", dev=disk.target or "", bus=disk.bus)
    if disk.readonly:
        etree.SubElement(element, "readonly")
    if disk.boot_order is not None:
        etree.SubElement(element, "boot", order=str(disk.boot_order))


def _build_nic(devices: etree._Element, nic: NicSpec) -> None:
    kind = "network" if nic.network is not None else "bridge"
    element = etree.SubElement(devices, "interface", type=kind)
    if nic.mac is not None:
        etree.SubElement(element, "mac", address=nic.mac)
    etree.SubElement(element, "source", {kind: nic.network or nic.bridge or ""})
    etree.SubElement(element, "model", type=nic.model)
    if nic.boot_order is not None:
        etree.SubElement(element, "boot", order=str(nic.boot_order))


def _build_graphics(devices: etree._Element, graphics: GraphicsSpec) -> None:
    element = etree.SubElement(devices, "graphics", type=graphics.type)
    if graphics.port == -1:
        element.set("autoport", "yes")
    else:
        element.set("port", str(graphics.port))
        element.set("autoport", "no")
    if graphics.password is not None:
        element.set("passwd", graphics.password)
    elif graphics.locked:
        # A random password (never known to anyone) that expired long ago:
        # QEMU starts with password authentication on and admits nobody until
        # hypervisor.consoles sets a one-time password on the running domain.
        element.set("passwd", random_graphics_password(graphics.type))
        element.set("passwdValidTo", GRAPHICS_LOCKED_VALID_TO)
    etree.SubElement(element, "listen", type="address", address=graphics.listen)


def parse_domain_xml(xml: str) -> DomainSpec:
    """Read domain XML (ours or libvirt's) back into a DomainSpec."""
    try:
        root = etree.fromstring(xml.encode(), _SAFE_PARSER)
    except etree.XMLSyntaxError as exc:
        raise InvalidXML(f"The domain XML is not well-formed: {exc}") from None
    if root.tag != "domain":
        raise InvalidXML(f"Expected a <domain> document, got <{root.tag}>.")
    os_type = _required(root, "os/type")
    vcpu = _required(root, "vcpu")
    slots = int(vcpu.text or "0")
    vcpus = int(vcpu.get("current", slots))
    topology = root.find("cpu/topology")
    max_memory = root.find("maxMemory")
    cpu_mode, cpu_model = _parse_cpu_mode(root.find("cpu"))
    sounds = root.findall("devices/sound")
    if len(sounds) > 1:
        raise InvalidXML("More than one sound card cannot be described by a DomainSpec yet.")
    usb_models = [c.get("model") for c in root.iterfind("devices/controller[@type='usb']")]
    balloon = root.find("devices/memballoon")
    return DomainSpec(
        name=_required(root, "name").text or "",
        uuid=root.findtext("uuid"),
        title=root.findtext("title") or "",
        description=root.findtext("description") or "",
        memory_mb=_memory_mb(_required(root, "memory")),
        max_memory_mb=_memory_mb(max_memory) if max_memory is not None else None,
        memory_slots=int(max_memory.get("slots", "0")) if max_memory is not None else 0,
        topology=_parse_topology(topology, vcpus),
        max_vcpus=slots if vcpu.get("current") is not None else None,
        domain_type=root.get("type", ""),
        arch=os_type.get("arch", ""),
        machine=os_type.get("machine"),
        os_type=os_type.text or "",
        boot_devices=tuple(boot.get("dev", "") for boot in root.findall("os/boot")),
        disks=tuple(_parse_disk(e) for e in root.findall("devices/disk")),
        nics=tuple(_parse_nic(e) for e in root.findall("devices/interface")),
        graphics=tuple(_parse_graphics(e) for e in root.findall("devices/graphics")),
        serials=tuple(_parse_serial(e) for e in root.findall("devices/serial")),
        smbios_serial=root.findtext("sysinfo[@type='smbios']/system/entry[@name='serial']"),
        smbios_family=root.findtext("sysinfo[@type='smbios']/system/entry[@name='family']"),
        video_model=_attr(root, "devices/video/model", "type"),
        acpi=root.find("features/acpi") is not None,
        on_poweroff=root.findtext("on_poweroff") or "destroy",
        on_reboot=root.findtext("on_reboot") or "restart",
        on_crash=root.findtext("on_crash") or "destroy",
        boot_menu=_attr(root, "os/bootmenu", "enable") == "yes",
        kernel=root.findtext("os/kernel"),
        initrd=root.findtext("os/initrd"),
        cmdline=root.findtext("os/cmdline") or "",
        cpu_mode=cpu_mode,
        cpu_model=cpu_model,
        numa_cells=_parse_numa_cells(root),
        vcpu_pins=tuple(
            VcpuPin(int(pin.get("vcpu", "-1")), parse_id_set(pin.get("cpuset", "")))
            for pin in root.iterfind("cputune/vcpupin")
        ),
        hugepages=root.find("memoryBacking/hugepages") is not None,
        iothreads=int(root.findtext("iothreads") or "0"),
        clock_offset=_attr(root, "clock", "offset", "utc") or "utc",
        timers=tuple(_parse_timer(e) for e in root.iterfind("clock/timer")),
        hyperv=tuple(
            e.tag for e in root.iterfind("features/hyperv/*") if e.tag in HYPERV_FEATURES and e.get("state") == "on"
        ),
        # No USB controller at all: QEMU machines get one unless told model none.
        usb=not usb_models or any(model != "none" for model in usb_models),
        sound_model=sounds[0].get("model") if sounds else None,
        # No <memballoon>: QEMU adds a virtio one.
        memballoon=balloon is None or balloon.get("model") != "none",
        rng=root.find("devices/rng[@model='virtio']") is not None,
        guest_agent=root.find(f"devices/channel/target[@name='{GUEST_AGENT_CHANNEL}']") is not None,
        metadata={
            entry.get("key", ""): entry.text or ""
            for entry in root.iterfind(f"metadata/{{{PORTAL_NS}}}vm/{{{PORTAL_NS}}}entry")
        },
    )


def _parse_topology(topology: etree._Element | None, vcpus: int) -> CpuTopology:
    """The running vCPUs' topology: the XML's sockets are the maximum's."""
    if topology is None:
        return CpuTopology(sockets=vcpus)  # libvirt's default: one core per socket
    cores, threads = int(topology.get("cores", "1")), int(topology.get("threads", "1"))
    return CpuTopology(max(1, vcpus // (cores * threads)), cores, threads)


def _parse_cpu_mode(cpu: etree._Element | None) -> tuple[str | None, str | None]:
    if cpu is None:
        return None, None
    model = cpu.findtext("model")
    mode = cpu.get("mode", "custom")  # libvirt's default mode
    if mode == "custom":
        return ("custom", model) if model else (None, None)
    return mode, None  # host-model may name a fallback model: not ours to keep


def _parse_numa_cells(root: etree._Element) -> tuple[GuestNumaCell, ...]:
    host_nodes: dict[int, tuple[int, ...]] = {}
    for memnode in root.iterfind("numatune/memnode"):
        mode = memnode.get("mode", "strict")
        if mode != "strict":
            raise InvalidXML(f"NUMA memory mode {mode!r} cannot be described by a DomainSpec yet (only strict).")
        host_nodes[int(memnode.get("cellid", "-1"))] = parse_id_set(memnode.get("nodeset", ""))
    cells = []
    for cell in root.iterfind("cpu/numa/cell"):
        index = int(cell.get("id", "-1"))
        cells.append(
            GuestNumaCell(
                index=index,
                cpus=parse_id_set(cell.get("cpus", "")),
                memory_mb=_to_mb(cell.get("memory", "0"), cell.get("unit", "KiB")),
                host_nodes=host_nodes.get(index, ()),
            )
        )
    return tuple(cells)


def _parse_timer(element: etree._Element) -> TimerSpec:
    present = element.get("present")
    return TimerSpec(
        name=element.get("name", ""),
        present=None if present is None else present == "yes",
        tickpolicy=element.get("tickpolicy"),
    )


def _required(root: etree._Element, path: str) -> etree._Element:
    element = root.find(path)
    if element is None:
        raise InvalidXML(f"The domain XML has no <{path}>.")
    return element


def _attr(parent: etree._Element, path: str, name: str, default: str | None = None) -> str | None:
    """Attribute ``name`` of the element at ``path``, or ``default`` if either is missing."""
    element = parent.find(path)
    return element.get(name, default) if element is not None else default


def _memory_mb(element: etree._Element) -> int:
    return _to_mb(element.text or "0", element.get("unit", "KiB"))  # libvirt's default unit is KiB


def _to_mb(amount: str, unit: str) -> int:
    if unit.lower() not in _UNIT_BYTES:
        raise InvalidXML(f"Unknown memory unit {unit!r}.")
    return int(amount) * _UNIT_BYTES[unit.lower()] // 1024**2


def _parse_disk(element: etree._Element) -> DiskSpec:
    if element.get("type") != "file":
        raise InvalidXML(f"Disks of type {element.get('type')!r} cannot be described by a DiskSpec yet.")
    boot_order = _attr(element, "boot", "order")
    iothread = _attr(element, "driver", "iothread")
    return DiskSpec(
        path=_attr(element, "source", "file"),  # none: an empty CD-ROM tray
        format=_attr(element, "driver", "type", "raw"),
        bus=_attr(element, "target", "bus", ""),
        device=element.get("device", "disk"),
        target=_attr(element, "target", "dev"),
        readonly=element.find("readonly") is not None,
        boot_order=int(boot_order) if boot_order is not None else None,
        iothread=int(iothread) if iothread is not None else None,
    )


def _parse_nic(element: etree._Element) -> NicSpec:
    kind = element.get("type")
    if kind not in ("network", "bridge"):
        raise InvalidXML(f"Interfaces of type {kind!r} cannot be described by a NicSpec yet.")
    boot_order = _attr(element, "boot", "order")
    return NicSpec(
        network=_attr(element, "source", "network") if kind == "network" else None,
        bridge=_attr(element, "source", "bridge") if kind == "bridge" else None,
        model=_attr(element, "model", "type", "rtl8139"),  # QEMU's default NIC
        mac=_attr(element, "mac", "address"),
        boot_order=int(boot_order) if boot_order is not None else None,
    )


def _parse_graphics(element: etree._Element) -> GraphicsSpec:
    address = _attr(element, "listen[@type='address']", "address", element.get("listen"))
    autoport = element.get("autoport") == "yes"
    locked = element.get("passwdValidTo") == GRAPHICS_LOCKED_VALID_TO
    return GraphicsSpec(
        type=element.get("type", ""),
        listen=address or "127.0.0.1",
        port=-1 if autoport else int(element.get("port", "-1")),
        password=None if locked else element.get("passwd"),
        locked=locked,
    )


def _parse_serial(element: etree._Element) -> SerialSpec:
    kind = element.get("type", "")
    # A running pty serial reports the /dev/pts path it got: not part of the spec.
    return SerialSpec(type=kind, path=_attr(element, "source", "path") if kind == "file" else None,
                      log_path=_attr(element, "log", "file") if kind == "pty" else None)
