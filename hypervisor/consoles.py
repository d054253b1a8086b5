"""Where a running domain's graphical console listens, read from its live XML.

A console proxy must connect to the port QEMU listens on *now*, on the host
the domain runs on now: an autoport VNC or SPICE server gets its port when the
domain starts (and another one after a migration), so the persistent
definition cannot tell it."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from lxml import etree

from hypervisor.domains import _lookup, _require_state
from hypervisor.errors import Conflict, libvirt_errors

_ACTIVE = frozenset({"running", "blocked", "paused"})
_WILDCARDS = frozenset({ipaddress.ip_address("0.0.0.0"), ipaddress.ip_address("::")})


@dataclass(frozen=True)
class ConsoleAddress:
    host: str
    port: int


def domain_console_address(uri: str, uuid: str, kind: str) -> ConsoleAddress:
    """The address and port of the domain's ``kind`` (vnc, spice) graphics
    server. Conflict when the domain is not running or has no such console."""
    domain = _lookup(uri, uuid)
    with libvirt_errors(uri):
        _require_state(uri, domain, _ACTIVE, f"open the {kind} console of")
        root = etree.fromstring(domain.XMLDesc(0).encode())
    graphics = root.find(f"devices/graphics[@type='{kind}']") if kind in ("vnc", "spice") else None
    if graphics is None:
        raise Conflict(f"The virtual machine {root.findtext('name')!r} has no {kind} console.", uri=uri)
    port = int(graphics.get("port") or "-1")
    if port <= 0:
        raise Conflict(f"The {kind} console of {root.findtext('name')!r} has no port yet.", uri=uri)
    listen = graphics.find("listen[@type='address']")
    address = (listen.get("address") if listen is not None else None) or graphics.get("listen") or "127.0.0.1"
    return ConsoleAddress(host=_reachable(uri, address), port=port)


def _reachable(uri: str, address: str) -> str:
    """A server listening on every address is reached at the host's own
    address (the URI's host; loopback for a local URI)."""
    try:
        if ipaddress.ip_address(address) not in _WILDCARDS:
            return address
    except ValueError:
        return address
    return urlsplit(uri).hostname or "127.0.0.1"
