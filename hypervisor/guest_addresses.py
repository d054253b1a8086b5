"""The addresses a running guest reports for its network interfaces, asked
of its QEMU guest agent (virDomainInterfaceAddresses, source AGENT): what a
client such as an RDP viewer connects to. Without an agent answering there
is no address to give: Conflict, saying so."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import libvirt

from hypervisor.domains import _lookup, _require_state
from hypervisor.errors import Conflict, HypervisorError, libvirt_errors

_ACTIVE = frozenset({"running", "blocked"})


@dataclass(frozen=True)
class GuestAddress:
    interface: str  # the guest's own name for it (eth0, Ethernet 2 ...)
    mac: str
    address: str
    prefix: int

    @property
    def version(self) -> int:
        return ipaddress.ip_address(self.address).version


def domain_guest_addresses(uri: str, uuid: str) -> tuple[GuestAddress, ...]:
    """The guest's global addresses (loopback and link-local left out), IPv4
    first, as its guest agent reports them now."""
    domain = _lookup(uri, uuid)
    with libvirt_errors(uri):
        _require_state(uri, domain, _ACTIVE, "ask the guest agent of")
    try:
        with libvirt_errors(uri):
            interfaces = domain.interfaceAddresses(libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT)
    except HypervisorError as error:
        # libvirt says "guest agent is not connected" or "not responding".
        raise Conflict(f"The guest agent of the virtual machine {domain.name()!r} does not answer "
                       f"({error.message}).", uri=uri) from error
    found = []
    for name, interface in (interfaces or {}).items():
        for entry in interface.get("addrs") or ():
            try:
                address = ipaddress.ip_address(entry["addr"])
            except (KeyError, ValueError):
                continue
            if address.is_loopback or address.is_link_local or address.is_unspecified:
                continue
            found.append(GuestAddress(interface=name, mac=interface.get("hwaddr") or "", address=str(address),
                                      prefix=int(entry.get("prefix") or 0)))
    return tuple(sorted(found, key=lambda a: (a.version, a.interface)))
