"""Logical networks realised on a host as Linux bridges, by host URI and network name.

A logical network of the portal becomes, on every host of its data center, an
isolated libvirt network that owns its own bridge::

    <network><name>N</name><bridge name='B' stp='on'/><mtu size='M'/></network>

No <forward>, no <ip>: libvirt creates the Linux bridge device B when the network
starts and deletes it when it stops, and does nothing else to it (no NAT, no
DHCP). Guests' NICs join it by network name. Connecting the bridge to a physical
NIC (or to a VLAN sub-interface of one) is not done here yet.

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

_SAFE_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=True)


@dataclass(frozen=True)
class BridgeNetworkSpec:
    """An isolated network owning the Linux bridge ``bridge`` with this MTU."""

    name: str
    bridge: str
    mtu: int = 1500

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


@dataclass(frozen=True)
class NetworkInfo:
    name: str
    bridge: str  # "" when the network has no bridge of its own
    active: bool
    mtu: int | None  # None: libvirt's default (the bridge's own, usually 1500)


def build_network_xml(spec: BridgeNetworkSpec) -> str:
    root = etree.Element("network")
    etree.SubElement(root, "name").text = spec.name
    etree.SubElement(root, "bridge", name=spec.bridge, stp="on")
    etree.SubElement(root, "mtu", size=str(spec.mtu))
    return etree.tostring(root, encoding="unicode", pretty_print=True)


def parse_network_xml(xml: str) -> BridgeNetworkSpec:
    """Read network XML (ours or ``net-dumpxml``) back into a spec; InvalidXML
    when it is not an isolated bridge network of that shape."""
    root = _root(xml)
    name, bridge, mtu, forward = _identity(root)
    if not name:
        raise InvalidXML("The network XML has no <name>.")
    if not bridge:
        raise InvalidXML("The network XML has no <bridge name=...>.")
    if forward:
        raise InvalidXML(f"The network {name!r} forwards ({forward}); only isolated bridge networks are ours.")
    return BridgeNetworkSpec(name=name, bridge=bridge, mtu=mtu or 1500)


def ensure_bridge_network(uri: str, spec: BridgeNetworkSpec) -> NetworkInfo:
    """Make the network exist, persistent, started and autostarted.

    Idempotent: the same network already there is left as it is (started if it
    was not). A network of that name with another bridge, MTU or a forward mode,
    or another network owning this bridge, is a Conflict: we never take over or
    change what someone else set up.
    """
    conn = get_connection(uri)
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


def _info(network: libvirt.virNetwork) -> NetworkInfo:
    """Call inside libvirt_errors."""
    name, bridge, mtu, _forward = _identity(_root(network.XMLDesc(0)))
    return NetworkInfo(name=name, bridge=bridge, active=bool(network.isActive()), mtu=mtu)


def _lookup(conn: libvirt.virConnect, uri: str, name: str) -> libvirt.virNetwork:
    with libvirt_errors(uri):
        return conn.networkLookupByName(name)


def _lookup_or_none(conn: libvirt.virConnect, uri: str, name: str) -> libvirt.virNetwork | None:
    try:
        return _lookup(conn, uri, name)
    except NotFound:
        return None


def _check_same(uri: str, spec: BridgeNetworkSpec, network: libvirt.virNetwork) -> None:
    with libvirt_errors(uri):
        name, bridge, mtu, forward = _identity(_root(network.XMLDesc(0)))
    if bridge != spec.bridge or forward or (mtu or 1500) != spec.mtu:
        how = f"forward mode {forward}" if forward else "isolated"
        raise Conflict(
            f"A network named {spec.name!r} already exists on {uri} with bridge {bridge or 'none'}, "
            f"MTU {mtu or 'default'} ({how}), not bridge {spec.bridge}, MTU {spec.mtu} (isolated); "
            "it is left as it is.",
            uri=uri,
        )


def _owner_of(uri: str, bridge: str) -> str | None:
    """The name of a network whose bridge is ``bridge``, if there is one."""
    for info in list_networks(uri):
        if info.bridge == bridge:
            return info.name
    return None


def _define(conn: libvirt.virConnect, uri: str, spec: BridgeNetworkSpec) -> libvirt.virNetwork:
    owner = _owner_of(uri, spec.bridge)
    if owner is not None:
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
