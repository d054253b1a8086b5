"""The one builder and the one parser of libvirt domain XML.

``parse_domain_xml(build_domain_xml(spec)) == spec`` for every spec. The parser
also reads what libvirt hands back (``virsh dumpxml``), which normalizes units to
KiB and adds defaults, and refuses devices a spec cannot describe rather than
silently dropping them. Text goes into the tree through lxml, which escapes it.
"""

from __future__ import annotations

from lxml import etree

from hypervisor.errors import InvalidXML
from hypervisor.specs import CpuTopology, DiskSpec, DomainSpec, GraphicsSpec, NicSpec, SerialSpec

# Our own namespace under <metadata>, so the portal can recognise the domains it
# owns and keep its tags without clashing with other management tools.
PORTAL_NS = "urn:portal:vm:1"
PORTAL_PREFIX = "portal"

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
    _text(root, "memory", str(spec.memory_mb), unit="MiB")
    _text(root, "currentMemory", str(spec.memory_mb), unit="MiB")
    _text(root, "vcpu", str(spec.vcpus), placement="static")
    if spec.smbios_serial is not None:
        system = etree.SubElement(etree.SubElement(root, "sysinfo", type="smbios"), "system")
        _text(system, "entry", spec.smbios_serial, name="serial")
    _build_os(root, spec)
    if spec.acpi:
        features = etree.SubElement(root, "features")
        etree.SubElement(features, "acpi")
        etree.SubElement(features, "apic")
    cpu = etree.SubElement(root, "cpu")
    etree.SubElement(
        cpu,
        "topology",
        sockets=str(spec.topology.sockets),
        cores=str(spec.topology.cores),
        threads=str(spec.topology.threads),
    )
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


def _build_os(root: etree._Element, spec: DomainSpec) -> None:
    os_element = etree.SubElement(root, "os")
    os_type = _text(os_element, "type", spec.os_type, arch=spec.arch)
    if spec.machine:
        os_type.set("machine", spec.machine)
    for device in spec.boot_devices:
        etree.SubElement(os_element, "boot", dev=device)
    if spec.smbios_serial is not None:
        etree.SubElement(os_element, "smbios", mode="sysinfo")


def _build_devices(root: etree._Element, spec: DomainSpec) -> None:
    devices = etree.SubElement(root, "devices")
    for disk in spec.disks:
        _build_disk(devices, disk)
    for nic in spec.nics:
        _build_nic(devices, nic)
    for port, serial in enumerate(spec.serials):
        element = etree.SubElement(devices, "serial", type=serial.type)
        if serial.path is not None:
            etree.SubElement(element, "source", path=serial.path)
        etree.SubElement(element, "target", port=str(port))
    for graphics in spec.graphics:
        _build_graphics(devices, graphics)
    if spec.video_model is not None:
        etree.SubElement(etree.SubElement(devices, "video"), "model", type=spec.video_model)


def _build_disk(devices: etree._Element, disk: DiskSpec) -> None:
    element = etree.SubElement(devices, "disk", type="file", device=disk.device)
    etree.SubElement(element, "driver", name="qemu", type=disk.format)
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


def _build_graphics(devices: etree._Element, graphics: GraphicsSpec) -> None:
    element = etree.SubElement(devices, "graphics", type=graphics.type)
    if graphics.port == -1:
        element.set("autoport", "yes")
    else:
        element.set("port", str(graphics.port))
        element.set("autoport", "no")
    if graphics.password is not None:
        element.set("passwd", graphics.password)
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
    vcpus = int(_required(root, "vcpu").text or "0")
    topology = root.find("cpu/topology")
    return DomainSpec(
        name=_required(root, "name").text or "",
        uuid=root.findtext("uuid"),
        title=root.findtext("title") or "",
        description=root.findtext("description") or "",
        memory_mb=_memory_mb(_required(root, "memory")),
        topology=(
            CpuTopology(int(topology.get("sockets")), int(topology.get("cores")), int(topology.get("threads")))
            if topology is not None
            else CpuTopology(sockets=vcpus)  # libvirt's default: one core per socket
        ),
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
        video_model=_attr(root, "devices/video/model", "type"),
        acpi=root.find("features/acpi") is not None,
        on_poweroff=root.findtext("on_poweroff") or "destroy",
        on_reboot=root.findtext("on_reboot") or "restart",
        on_crash=root.findtext("on_crash") or "destroy",
        metadata={
            entry.get("key", ""): entry.text or ""
            for entry in root.iterfind(f"metadata/{{{PORTAL_NS}}}vm/{{{PORTAL_NS}}}entry")
        },
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
    unit = element.get("unit", "KiB").lower()  # libvirt's default unit is KiB
    if unit not in _UNIT_BYTES:
        raise InvalidXML(f"Unknown memory unit {unit!r}.")
    return int(element.text or "0") * _UNIT_BYTES[unit] // 1024**2


def _parse_disk(element: etree._Element) -> DiskSpec:
    if element.get("type") != "file":
        raise InvalidXML(f"Disks of type {element.get('type')!r} cannot be described by a DiskSpec yet.")
    boot_order = _attr(element, "boot", "order")
    return DiskSpec(
        path=_attr(element, "source", "file", ""),
        format=_attr(element, "driver", "type", "raw"),
        bus=_attr(element, "target", "bus", ""),
        device=element.get("device", "disk"),
        target=_attr(element, "target", "dev"),
        readonly=element.find("readonly") is not None,
        boot_order=int(boot_order) if boot_order is not None else None,
    )


def _parse_nic(element: etree._Element) -> NicSpec:
    kind = element.get("type")
    if kind not in ("network", "bridge"):
        raise InvalidXML(f"Interfaces of type {kind!r} cannot be described by a NicSpec yet.")
    return NicSpec(
        network=_attr(element, "source", "network") if kind == "network" else None,
        bridge=_attr(element, "source", "bridge") if kind == "bridge" else None,
        model=_attr(element, "model", "type", "rtl8139"),  # QEMU's default NIC
        mac=_attr(element, "mac", "address"),
    )


def _parse_graphics(element: etree._Element) -> GraphicsSpec:
    address = _attr(element, "listen[@type='address']", "address", element.get("listen"))
    autoport = element.get("autoport") == "yes"
    return GraphicsSpec(
        type=element.get("type", ""),
        listen=address or "127.0.0.1",
        port=-1 if autoport else int(element.get("port", "-1")),
        password=element.get("passwd"),
    )


def _parse_serial(element: etree._Element) -> SerialSpec:
    kind = element.get("type", "")
    # A running pty serial reports the /dev/pts path it got: not part of the spec.
    return SerialSpec(type=kind, path=_attr(element, "source", "path") if kind == "file" else None)
