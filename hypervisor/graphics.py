"""A running domain's graphics servers (VNC, SPICE): where they listen, and
their one-time passwords.

Every graphics device the portal defines is locked (``GraphicsSpec.locked``):
it carries a random password that expired in 1970 (``hypervisor.domain_xml``
writes it), so QEMU starts the
server with password authentication on and accepts nobody. Whoever should get
in is handed a fresh password valid for a short time, set here on the live
domain through libvirt's graphics password (``<graphics passwd=...
passwdValidTo=...>`` via ``updateDeviceFlags(LIVE)``): a session that
authenticated in time stays up; the password is worth nothing afterwards.
QEMU checks the expiry when a client authenticates, not while it is connected.

VNC's authentication (DES) uses at most 8 characters of a password; SPICE
takes longer ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import libvirt
from lxml import etree

from hypervisor.domains import _lookup, _require_state
from hypervisor.errors import Conflict, InvalidSpec, libvirt_errors
from hypervisor.specs import GRAPHICS_PASSWORD_LENGTHS as PASSWORD_LENGTHS
from hypervisor.specs import random_graphics_password

__all__ = ["GraphicsEndpoint", "graphics_endpoint", "random_graphics_password", "set_graphics_password"]
_ACTIVE = frozenset({"running", "blocked", "paused"})
_SAFE_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)


@dataclass(frozen=True)
class GraphicsEndpoint:
    """Where a running domain's graphics server of one type listens."""

    type: str  # vnc | spice
    listen: str  # the address QEMU listens on, on the domain's host
    port: int
    tls_port: int | None = None  # SPICE's TLS port, when it has one


def graphics_endpoint(uri: str, uuid: str, kind: str) -> GraphicsEndpoint:
    """The ``kind`` graphics server of the running domain ``uuid``: Conflict
    when the domain is not running or has no such server."""
    element = _live_graphics(uri, uuid, kind, "reach the console of")
    port = int(element.get("port", "-1"))
    if port <= 0:
        raise Conflict(f"The {kind.upper()} server of the virtual machine has no port yet on {uri}.", uri=uri)
    listen = element.find("listen[@type='address']")
    address = (listen.get("address") if listen is not None else None) or element.get("listen") or "127.0.0.1"
    tls_port = int(element.get("tlsPort", "-1"))
    return GraphicsEndpoint(type=kind, listen=address, port=port, tls_port=tls_port if tls_port > 0 else None)


def set_graphics_password(uri: str, uuid: str, kind: str, password: str, *, valid_for_seconds: int) -> datetime:
    """Replace the live ``kind`` server's password by ``password``, accepted
    for ``valid_for_seconds`` from now (whole seconds, UTC); return when it
    expires. The persistent definition keeps its locked password, so a
    restart locks the server again."""
    if not isinstance(valid_for_seconds, int) or isinstance(valid_for_seconds, bool) or valid_for_seconds <= 0:
        raise InvalidSpec(f"A graphics password must be valid for a positive number of seconds, not {valid_for_seconds!r}.")
    if not password or len(password) > PASSWORD_LENGTHS[kind] or not password.isalnum():
        raise InvalidSpec(f"A {kind.upper()} password is 1 to {PASSWORD_LENGTHS[kind]} letters and digits.")
    element = _live_graphics(uri, uuid, kind, "set the console password of")
    valid_to = (datetime.now(timezone.utc) + timedelta(seconds=valid_for_seconds)).replace(microsecond=0)
    # libvirt refuses a change of anything but the password (listen address,
    # port): send back the live element with only the password changed.
    element.set("passwd", password)
    element.set("passwdValidTo", valid_to.strftime("%Y-%m-%dT%H:%M:%S"))
    domain = _lookup(uri, uuid)
    with libvirt_errors(uri):
        domain.updateDeviceFlags(etree.tostring(element, encoding="unicode"), libvirt.VIR_DOMAIN_AFFECT_LIVE)
    return valid_to


def _live_graphics(uri: str, uuid: str, kind: str, action: str) -> etree._Element:
    if kind not in PASSWORD_LENGTHS:
        raise InvalidSpec(f"Graphics type must be one of vnc, spice, not {kind!r}.")
    domain = _lookup(uri, uuid)
    with libvirt_errors(uri):
        _require_state(uri, domain, _ACTIVE, action)
        root = etree.fromstring(domain.XMLDesc(0).encode(), _SAFE_PARSER)
    element = root.find(f"devices/graphics[@type='{kind}']")
    if element is None:
        raise Conflict(f"The virtual machine {domain.name()!r} has no {kind.upper()} console on {uri}.", uri=uri)
    return element
