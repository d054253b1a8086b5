"""Where a running domain's graphical console listens, read from its live
XML, and its one-time passwords.

A console proxy must connect to the port QEMU listens on *now*, on the host
the domain runs on now: an autoport VNC or SPICE server gets its port when the
domain starts (and another one after a migration), so the persistent
definition cannot tell it.

Every graphics device the portal defines is locked (``GraphicsSpec.locked``):
it carries a random password that expired in 1970 (``hypervisor.domain_xml``
writes it), so QEMU starts the server with password authentication on and
accepts nobody. Whoever should get in is handed a fresh password valid for a
short time, set on the live domain through libvirt's graphics password
(``<graphics passwd=... passwdValidTo=...>`` via ``updateDeviceFlags(LIVE)``):
a session that authenticated in time stays up; the password is worth nothing
afterwards (QEMU checks the expiry when a client authenticates). VNC's
authentication (DES) uses at most 8 characters of a password; SPICE takes
longer ones. A device defined without a password (before the portal locked
them, or by another tool) cannot be given one while it runs.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import libvirt
from lxml import etree

from hypervisor.domains import _lookup, _require_state
from hypervisor.errors import Conflict, InvalidSpec, libvirt_errors
from hypervisor.specs import GRAPHICS_PASSWORD_LENGTHS

_ACTIVE = frozenset({"running", "blocked", "paused"})
# A password still valid this long is handed out again rather than replaced:
# replacing it would fail whoever is authenticating with it right now.
PASSWORD_REUSE_MARGIN_SECONDS = 15
_SAFE_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)
_WILDCARDS = frozenset({ipaddress.ip_address("0.0.0.0"), ipaddress.ip_address("::")})


@dataclass(frozen=True)
class ConsoleAddress:
    host: str
    port: int


def domain_console_address(uri: str, uuid: str, kind: str) -> ConsoleAddress:
    """The address and port of the domain's ``kind`` (vnc, spice) graphics
    server. Conflict when the domain is not running or has no such console."""
    _domain, root, graphics = _live_graphics(uri, uuid, kind, f"open the {kind} console of")
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


def graphics_password_protected(uri: str, uuid: str, kind: str) -> bool:
    """Whether the running domain's ``kind`` server asks for a password (a
    locked device does; one defined without a password cannot be given one)."""
    _domain, _root, graphics = _live_graphics(uri, uuid, kind, f"open the {kind} console of", secure=True)
    return graphics.get("passwd") is not None


def set_graphics_password(uri: str, uuid: str, kind: str, password: str, *, valid_for_seconds: int) -> datetime:
    """Replace the running ``kind`` server's password by ``password``,
    accepted for ``valid_for_seconds`` from now (whole seconds, UTC); return
    when it expires. The persistent definition keeps its locked password, so
    a restart locks the server again. Conflict for a server defined without
    a password."""
    if not isinstance(valid_for_seconds, int) or isinstance(valid_for_seconds, bool) or valid_for_seconds <= 0:
        raise InvalidSpec(f"A graphics password must be valid for a positive number of seconds, not {valid_for_seconds!r}.")
    limit = GRAPHICS_PASSWORD_LENGTHS.get(kind, 0)
    if not password or len(password) > limit or not password.isalnum():
        raise InvalidSpec(f"A {kind.upper()} password is 1 to {limit} letters and digits.")
    domain, root, graphics = _live_graphics(uri, uuid, kind, f"set the {kind} console password of", secure=True)
    if graphics.get("passwd") is None:
        raise Conflict(f"The {kind} console of {root.findtext('name')!r} was started without password "
                       "protection; it gets it at its next start.", uri=uri)
    valid_to = (datetime.now(timezone.utc) + timedelta(seconds=valid_for_seconds)).replace(microsecond=0)
    # libvirt refuses a change of anything but the password (listen address,
    # port): send back the live element with only the password changed.
    graphics.set("passwd", password)
    graphics.set("passwdValidTo", valid_to.strftime("%Y-%m-%dT%H:%M:%S"))
    with libvirt_errors(uri):
        domain.updateDeviceFlags(etree.tostring(graphics, encoding="unicode"), libvirt.VIR_DOMAIN_AFFECT_LIVE)
    return valid_to


def graphics_password_shared(uri: str, uuid: str, kind: str, *, valid_for_seconds: int,
                             fresh: Callable[[], str]) -> str | None:
    """The password that opens the running ``kind`` server for the next
    ``valid_for_seconds``: the one it has now when that is still valid for a
    while (its expiry moved later if need be), so a client authenticating
    with it meanwhile is not cut off; else a new one from ``fresh()``. None
    when the server asks for no password."""
    _domain, _root, graphics = _live_graphics(uri, uuid, kind, f"open the {kind} console of", secure=True)
    current = graphics.get("passwd")
    if current is None:
        return None
    valid_to = _parse_valid_to(graphics.get("passwdValidTo"))
    now = datetime.now(timezone.utc)
    if current and valid_to is not None and valid_to - now >= timedelta(seconds=PASSWORD_REUSE_MARGIN_SECONDS):
        if valid_to >= now + timedelta(seconds=valid_for_seconds):
            return current
        set_graphics_password(uri, uuid, kind, current, valid_for_seconds=valid_for_seconds)
        return current
    password = fresh()
    set_graphics_password(uri, uuid, kind, password, valid_for_seconds=valid_for_seconds)
    return password


def _parse_valid_to(text: str | None) -> datetime | None:
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc) if text else None
    except ValueError:
        return None


def _live_graphics(uri: str, uuid: str, kind: str, action: str, *, secure: bool = False):
    """(domain, its live XML root, its ``kind`` graphics element); Conflict
    when it is not running or has none. ``secure``: with the passwords."""
    domain = _lookup(uri, uuid)
    with libvirt_errors(uri):
        _require_state(uri, domain, _ACTIVE, action)
        root = etree.fromstring(domain.XMLDesc(libvirt.VIR_DOMAIN_XML_SECURE if secure else 0).encode(), _SAFE_PARSER)
    graphics = root.find(f"devices/graphics[@type='{kind}']") if kind in ("vnc", "spice") else None
    if graphics is None:
        raise Conflict(f"The virtual machine {root.findtext('name')!r} has no {kind} console.", uri=uri)
    return domain, root, graphics
