"""Logical networks realised on a host, by host URI and network name.

A logical network of the portal becomes, on every host of its data center, a
libvirt network of one of two kinds:

- Untagged: an isolated network that owns its own Linux bridge::

    <network><name>N</name><bridge name='B' stp='on'/><mtu size='M'/></network>

  No <forward>, no <ip>: libvirt creates the Linux bridge device B when the
  network starts and deletes it when it stops, and does nothing else to it (no
  NAT, no DHCP). Connecting the bridge to a physical NIC is not done here.

- Tagged with a VLAN: a network on the host's Open vSwitch bridge B, whose
  guest ports libvirt makes access ports of VLAN V::

    <network><name>N</name><forward mode='bridge'/><bridge name='B'/>
      <virtualport type='openvswitch'/><vlan><tag id='V'/></vlan></network>

  libvirt neither creates nor changes B (several tagged networks share it, one
  VLAN each): the host must have it, as it has its NICs. Before defining such a
  network we check through libvirt's interface API that B exists and is not a
  Linux bridge, and that its MTU is the one asked for (libvirt refuses <mtu> on
  a bridge-mode network: the guests' taps take the bridge's MTU).

  This is the one way to tag a VLAN that libvirt offers for a bridge it does
  not own: it refuses <vlan> on a Linux bridge network ("<vlan> element
  specified for network N, whose type doesn't support vlan configuration"),
  and defining a VLAN interface (virInterfaceDefineXML) needs the netcf
  backend, which Debian's libvirt 9.0 lacks ("this function is not supported
  by the connection driver").

Guests' NICs must join a network by its libvirt name (<interface
type='network'>): only then does libvirt apply the network's VLAN to the port.

Network XML is built and read here with lxml, never with string formatting.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import libvirt
from lxml import etree

from hypervisor.connection import get_connection
from hypervisor.errors import Conflict, HypervisorError, InvalidSpec, InvalidXML, NotFound, libvirt_errors
from hypervisor.specs import _xml_text

# Linux interface names: at most 15 bytes (IFNAMSIZ - 1), no '/', no whitespace.
_BRIDGE = re.compile(r"^(?!\.{1,2}$)[a-zA-Z0-9_.-]{1,15}$")
MTU_MIN, MTU_MAX = 68, 65535
VLAN_MIN, VLAN_MAX = 1, 4094
OPENVSWITCH = "openvswitch"

_SAFE_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=True)


@dataclass(frozen=True)
class BridgeNetworkSpec:
    """Without ``vlan``: an isolated network owning the Linux bridge ``bridge``
    with this MTU. With ``vlan``: a network tagging its guests' ports with that
    VLAN on the host's Open vSwitch bridge ``bridge``, whose MTU must be ``mtu``."""

    name: str
    bridge: str
    mtu: int = 1500
    vlan: int | None = None

    @property
    def openvswitch(self) -> bool:
        return self.vlan is not None

    def __post_init__(self) -> None:
        _xml_text("Network name", self.name, single_line=True)
        if not self.name.strip():
            raise InvalidSpec("The network name must not be empty.")
        if "/" in self.name:
            raise InvalidSpec(f"The network name {self.name!r} contains '/', which libvirt refuses.")
        if not isinstance(self.bridge, str) or not _BRIDGE.match(self.bridge):
            raise InvalidSpec(
                f"The bridge name {self.bridge!r} is not a Linux interface name: "
                "1 to 15 letters, digits, '_', '.' or '-'."
            )
        if isinstance(self.mtu, bool) or not isinstance(self.mtu, int) or not MTU_MIN <= self.mtu <= MTU_MAX:
            raise InvalidSpec(f"The MTU must be a whole number from {MTU_MIN} to {MTU_MAX}, not {self.mtu!r}.")
        if self.vlan is not None and (
            isinstance(self.vlan, bool) or not isinstance(self.vlan, int) or not VLAN_MIN <= self.vlan <= VLAN_MAX
        ):
            raise InvalidSpec(f"The VLAN must be a whole number from {VLAN_MIN} to {VLAN_MAX}, not {self.vlan!r}.")


@dataclass(frozen=True)
class NetworkInfo:
    name: str
    bridge: str  # "" when the network has no bridge
    active: bool
    mtu: int | None  # None: libvirt's default (the bridge's own, usually 1500)
    vlan: int | None = None  # the VLAN tag of its ports (Open vSwitch networks)
    openvswitch: bool = False  # on an Open vSwitch bridge it does not own


@dataclass(frozen=True)
class HostInterface:
    """A network device of the host, as libvirt's interface API sees it."""

    name: str
    type: str  # "bridge" (a Linux bridge), "ethernet" (an Open vSwitch bridge shows as one), "vlan", "bond"
    mtu: int | None
    active: bool


def build_network_xml(spec: BridgeNetworkSpec) -> str:
    root = etree.Element("network")
    etree.SubElement(root, "name").text = spec.name
    if spec.openvswitch:
        etree.SubElement(root, "forward", mode="bridge")
        etree.SubElement(root, "bridge", name=spec.bridge)
        etree.SubElement(root, "virtualport", type=OPENVSWITCH)
        vlan = etree.SubElement(root, "vlan")
        etree.SubElement(vlan, "tag", id=str(spec.vlan))
    else:
        etree.SubElement(root, "bridge", name=spec.bridge, stp="on")
        etree.SubElement(root, "mtu", size=str(spec.mtu))
    return etree.tostring(root, encoding="unicode", pretty_print=True)


def parse_network_xml(xml: str) -> BridgeNetworkSpec:
    """Read network XML (ours or ``net-dumpxml``) back into a spec; InvalidXML
    when it is neither of our two shapes. The MTU of an Open vSwitch network
    is its bridge's, not in the XML: it reads back as 1500."""
    root = _root(xml)
    name, bridge, mtu, forward = _identity(root)
    if not name:
        raise InvalidXML("The network XML has no <name>.")
    if not bridge:
        raise InvalidXML("The network XML has no <bridge name=...>.")
    vlan, openvswitch = _tagging(root)
    if openvswitch and forward == "bridge":
        if vlan is None:
            raise InvalidXML(f"The Open vSwitch network {name!r} tags no VLAN; only tagged ones are ours.")
        return BridgeNetworkSpec(name=name, bridge=bridge, vlan=vlan)
    if forward:
        raise InvalidXML(f"The network {name!r} forwards ({forward}); only isolated bridge networks are ours.")
    return BridgeNetworkSpec(name=name, bridge=bridge, mtu=mtu or 1500)


def ensure_bridge_network(uri: str, spec: BridgeNetworkSpec) -> NetworkInfo:
    """Make the network exist, persistent, started and autostarted.

    Idempotent: the same network already there is left as it is (started if it
    was not). A network of that name with another bridge, MTU, VLAN or forward
    mode, or another network owning this bridge, is a Conflict: we never take
    over or change what someone else set up. For a VLAN, the host's Open vSwitch
    bridge is checked first (``check_openvswitch_bridge``).
    """
    conn = get_connection(uri)
    if spec.openvswitch:
        check_openvswitch_bridge(uri, spec.bridge, mtu=spec.mtu)
    network = _lookup_or_none(conn, uri, spec.name)
    if network is None:
        network = _define(conn, uri, spec)
    else:
        _check_same(uri, spec, network)
    with libvirt_errors(uri):
        if not network.isPersistent():
            network = conn.networkDefineXML(network.XMLDesc(0))
        if not network.isActive():
            _start(uri, network)
        if not network.autostart():
            network.setAutostart(1)
        return _info(network)


def network_info(uri: str, name: str) -> NetworkInfo:
    conn = get_connection(uri)
    network = _lookup(conn, uri, name)
    with libvirt_errors(uri):
        return _info(network)


def list_networks(uri: str) -> tuple[NetworkInfo, ...]:
    """Every network on the host, active or not, sorted by name."""
    conn = get_connection(uri)
    with libvirt_errors(uri):
        networks = conn.listAllNetworks(0)
    result = []
    for network in networks:
        try:
            with libvirt_errors(uri):
                result.append(_info(network))
        except NotFound:
            continue  # removed while we were listing
    return tuple(sorted(result, key=lambda info: info.name))


def host_interface(uri: str, name: str) -> HostInterface:
    """The host's network device ``name`` (NotFound when it has none; NotSupported
    when the host's libvirt has no interface driver)."""
    conn = get_connection(uri)
    with libvirt_errors(uri):
        interface = conn.interfaceLookupByName(name)
        root = _interface_root(interface.XMLDesc(0))
        active = bool(interface.isActive())
    mtu = root.find("mtu")
    try:
        size = int(mtu.get("size")) if mtu is not None and mtu.get("size") else None
    except ValueError:
        size = None
    return HostInterface(name=name, type=root.get("type", ""), mtu=size, active=active)


def check_openvswitch_bridge(uri: str, bridge: str, *, mtu: int) -> HostInterface:
    """The host's bridge ``bridge`` as a VLAN network needs it: present, not a
    Linux bridge (libvirt's interface API shows an Open vSwitch bridge as a
    device of type ethernet), with this MTU. Conflict saying what is wrong otherwise."""
    try:
        interface = host_interface(uri, bridge)
    except NotFound:
        raise Conflict(
            f"The host {uri} has no network device {bridge}: a VLAN network needs an Open vSwitch bridge "
            f"of that name on every host (e.g. ovs-vsctl add-br {bridge}), which carries its VLANs.",
            uri=uri,
        ) from None
    if interface.type == "bridge":
        raise Conflict(
            f"{bridge} on {uri} is a Linux bridge: libvirt tags VLANs only on an Open vSwitch bridge "
            "(and this kernel's Linux bridge would need 802.1Q support it may lack).",
            uri=uri,
        )
    if interface.type not in ("ethernet", ""):
        raise Conflict(
            f"{bridge} on {uri} is a network device of type {interface.type}, not an Open vSwitch bridge.", uri=uri
        )
    if interface.mtu is not None and interface.mtu != mtu:
        raise Conflict(
            f"The Open vSwitch bridge {bridge} on {uri} has MTU {interface.mtu}, not {mtu}: set its MTU on the "
            "host (guests' ports take the bridge's MTU), or give the network that MTU.",
            uri=uri,
        )
    return interface


def remove_network(uri: str, name: str) -> bool:
    """Stop (the bridge goes away) and forget the network. Returns whether there
    was one to remove (removing a missing network is not an error)."""
    conn = get_connection(uri)
    network = _lookup_or_none(conn, uri, name)
    if network is None:
        return False
    try:
        with libvirt_errors(uri):
            if network.isActive():
                network.destroy()
            if network.isPersistent():
                network.undefine()
    except NotFound:
        pass  # removed by someone else meanwhile: what we wanted
    return True


def _root(xml: str) -> etree._Element:
    try:
        root = etree.fromstring(xml.encode(), _SAFE_PARSER)
    except etree.XMLSyntaxError as exc:
        raise InvalidXML(f"The network XML is not well-formed: {exc}") from None
    if root.tag != "network":
        raise InvalidXML(f"Expected a <network> document, got <{root.tag}>.")
    return root


def _identity(root: etree._Element) -> tuple[str, str, int | None, str]:
    """(name, bridge, mtu, forward mode) of network XML, without judging them."""
    bridge = root.find("bridge")
    mtu = root.find("mtu")
    forward = root.find("forward")
    try:
        size = int(mtu.get("size")) if mtu is not None and mtu.get("size") else None
    except ValueError:
        raise InvalidXML(f"The network MTU {mtu.get('size')!r} is not a number.") from None
    return (
        root.findtext("name") or "",
        bridge.get("name", "") if bridge is not None else "",
        size,
        forward.get("mode", "nat") if forward is not None else "",
    )


def _tagging(root: etree._Element) -> tuple[int | None, bool]:
    """(VLAN tag, whether the network is on an Open vSwitch bridge) of network XML."""
    port = root.find("virtualport")
    tag = root.find("vlan/tag")
    try:
        vlan = int(tag.get("id")) if tag is not None and tag.get("id") else None
    except ValueError:
        raise InvalidXML(f"The network VLAN tag {tag.get('id')!r} is not a number.") from None
    return vlan, port is not None and port.get("type") == OPENVSWITCH


def _interface_root(xml: str) -> etree._Element:
    try:
        root = etree.fromstring(xml.encode(), _SAFE_PARSER)
    except etree.XMLSyntaxError as exc:
        raise InvalidXML(f"The interface XML is not well-formed: {exc}") from None
    if root.tag != "interface":
        raise InvalidXML(f"Expected an <interface> document, got <{root.tag}>.")
    return root


def _info(network: libvirt.virNetwork) -> NetworkInfo:
    """Call inside libvirt_errors."""
    root = _root(network.XMLDesc(0))
    name, bridge, mtu, _forward = _identity(root)
    vlan, openvswitch = _tagging(root)
    return NetworkInfo(
        name=name, bridge=bridge, active=bool(network.isActive()), mtu=mtu, vlan=vlan, openvswitch=openvswitch
    )


def _lookup(conn: libvirt.virConnect, uri: str, name: str) -> libvirt.virNetwork:
    with libvirt_errors(uri):
        return conn.networkLookupByName(name)


def _lookup_or_none(conn: libvirt.virConnect, uri: str, name: str) -> libvirt.virNetwork | None:
    try:
        return _lookup(conn, uri, name)
    except NotFound:
        return None


def _describe(bridge: str, mtu: int | None, vlan: int | None, forward: str, openvswitch: bool) -> str:
    if openvswitch:
        return f"bridge {bridge or 'none'}, VLAN {vlan if vlan is not None else 'none'} (Open vSwitch)"
    how = f"forward mode {forward}" if forward else "isolated"
    return f"bridge {bridge or 'none'}, MTU {mtu or 'default'} ({how})"


def _check_same(uri: str, spec: BridgeNetworkSpec, network: libvirt.virNetwork) -> None:
    with libvirt_errors(uri):
        root = _root(network.XMLDesc(0))
    _name, bridge, mtu, forward = _identity(root)
    vlan, openvswitch = _tagging(root)
    if spec.openvswitch:
        same = bridge == spec.bridge and openvswitch and forward == "bridge" and vlan == spec.vlan
    else:
        same = bridge == spec.bridge and not forward and not openvswitch and (mtu or 1500) == spec.mtu
    if not same:
        wanted = _describe(spec.bridge, spec.mtu, spec.vlan, "bridge" if spec.openvswitch else "", spec.openvswitch)
        raise Conflict(
            f"A network named {spec.name!r} already exists on {uri} with "
            f"{_describe(bridge, mtu, vlan, forward, openvswitch)}, not {wanted}; it is left as it is.",
            uri=uri,
        )


def _owner_of(uri: str, spec: BridgeNetworkSpec) -> str | None:
    """The name of a network that stands in the way of ``spec``'s bridge: any
    network on it, except that tagged networks share an Open vSwitch bridge."""
    for info in list_networks(uri):
        if info.bridge == spec.bridge and not (spec.openvswitch and info.openvswitch):
            return info.name
    return None


def _define(conn: libvirt.virConnect, uri: str, spec: BridgeNetworkSpec) -> libvirt.virNetwork:
    owner = _owner_of(uri, spec)
    if owner is not None:
        if spec.openvswitch:
            raise Conflict(
                f"The bridge {spec.bridge} on {uri} belongs to the untagged network {owner!r}; "
                "VLAN networks need an Open vSwitch bridge of their own.",
                uri=uri,
            )
        raise Conflict(
            f"The bridge {spec.bridge} on {uri} already belongs to the network {owner!r}; "
            "a bridge has one network.",
            uri=uri,
        )
    try:
        with libvirt_errors(uri):
            return conn.networkDefineXML(build_network_xml(spec))
    except HypervisorError:
        # Another worker may have defined the same network meanwhile: that one is as good.
        network = _lookup_or_none(conn, uri, spec.name)
        if network is None:
            raise
        _check_same(uri, spec, network)
        return network


def _start(uri: str, network: libvirt.virNetwork) -> None:
    try:
        with libvirt_errors(uri):
            network.create()
    except HypervisorError:
        with libvirt_errors(uri):
            if network.isActive():
                return  # started by someone else meanwhile
        raise
