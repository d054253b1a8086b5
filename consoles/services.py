"""Console tickets and sessions: the one place that decides who may open which
console, and that records every session.

A ticket is issued by ``console_ticket_issue`` (the API's ``POST
vms/<id>/console/`` and the console page) and redeemed once by the console
proxy (consoles/proxy.py) through ``console_ticket_redeem``, which answers
where the console listens now. The ticket itself is returned once and never
stored or logged: only its SHA-256 hash is kept. Refusals say why in words
that never contain the ticket."""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.db import transaction
from django.http.request import validate_host
from django.urls import reverse
from django.utils import timezone

import hypervisor
from consoles.models import ConsoleProtocol, ConsoleTicket
from core.errors import Conflict, HypervisorUnavailable, InvalidInput
from core.events import event_record
from core.models import Severity
from hypervisor.specs import random_graphics_password
from vms.choices import VmStatus
from vms.models import Vm
from vms.permissions import vm_may, vm_require
from vms.services.screenshot import vm_shows_screen

logger = logging.getLogger(__name__)

TICKET_BYTES = 32  # 256 random bits, url-safe base64: 43 characters
WEBSOCKET_PATH = "/websockify"
SERIAL_WEBSOCKET_PATH = "/ws/serial/"  # consoles/serial.py
# The protocols the graphical proxy relays (a TCP stream to QEMU's VNC or SPICE server).
GRAPHICS_PROTOCOLS = (ConsoleProtocol.VNC, ConsoleProtocol.SPICE)
# The statuses in which a VM's QEMU process runs, so its serial port exists.
SERIAL_STATUSES = (VmStatus.UP, VmStatus.PAUSED, VmStatus.POWERING_UP, VmStatus.POWERING_DOWN,
                   VmStatus.REBOOT_IN_PROGRESS, VmStatus.MIGRATING)
# Used and expired tickets are kept this long (what the proxy saw), then removed.
TICKET_KEEP = timedelta(days=1)


@dataclass(frozen=True)
class IssuedTicket:
    ticket: str  # the secret: given to the user once, stored only as its hash
    expires_at: datetime
    protocol: str
    vm: Vm
    # The one-time password the VM's VNC or SPICE server asks for, valid as
    # long as the ticket (None: the server asks for none, or a serial console).
    password: str | None = None

    @property
    def websocket_path(self) -> str:
        path = SERIAL_WEBSOCKET_PATH if self.protocol == ConsoleProtocol.SERIAL else WEBSOCKET_PATH
        return f"{path}?{urlencode({'token': self.ticket, 'vm': self.vm.pk})}"

    @property
    def page_url(self) -> str:
        page = "consoles:vm-serial" if self.protocol == ConsoleProtocol.SERIAL else "consoles:vm-console"
        return reverse(page, args=[self.vm.pk])


@dataclass(frozen=True)
class ConsoleTarget:
    """What a redeemed ticket opens: the console's address on the VM's host now."""

    ticket_id: int
    user: object
    vm: Vm
    protocol: str
    host: str
    port: int


class TicketRefused(Exception):
    """The proxy refuses the connection. ``reason`` never contains the ticket."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def ticket_hash(ticket: str) -> str:
    return hashlib.sha256(ticket.encode()).hexdigest()


def console_ticket_issue(*, user, vm: Vm, protocol: str) -> IssuedTicket:
    """A new ticket for ``user`` to open ``vm``'s ``protocol`` console: 403
    (nothing stored) unless they may use the VM's console, 409 when the VM
    has no such console now. A VNC or SPICE server that asks for a password
    gets a one-time one, valid as long as the ticket, handed out with it."""
    vm_require(user, "console", vm)
    if protocol == ConsoleProtocol.SERIAL:
        if not vm_serial_available(vm):
            raise Conflict(f"VM {vm.name} is {VmStatus.label(vm.status).lower()}: its serial console exists "
                           "only while it runs.")
    else:
        if not vm_shows_screen(vm):
            raise Conflict(f"VM {vm.name} has no console to open now: it must be running with a screen.")
        if protocol not in GRAPHICS_PROTOCOLS:
            raise InvalidInput(f"Unknown console protocol {protocol!r}: choose one of "
                               f"{', '.join(ConsoleProtocol.values())}.")
        if protocol != vm_graphics_protocol(vm):
            raise Conflict(f"VM {vm.name} has a {ConsoleProtocol.label(vm_graphics_protocol(vm))} console, "
                           f"not {ConsoleProtocol.label(protocol)}.")
    password = _one_time_password(vm, protocol) if protocol in GRAPHICS_PROTOCOLS else None
    ticket = secrets.token_urlsafe(TICKET_BYTES)
    now = timezone.now()
    expires_at = now + timedelta(seconds=settings.CONSOLE_TICKET_SECONDS)
    ConsoleTicket.objects.filter(expires_at__lt=now - TICKET_KEEP).delete()
    ConsoleTicket.objects.create(token_hash=ticket_hash(ticket), user=user, vm=vm, protocol=protocol,
                                 expires_at=expires_at)
    return IssuedTicket(ticket=ticket, expires_at=expires_at, protocol=protocol, vm=vm, password=password)


def vm_serial_available(vm: Vm) -> bool:
    """Whether the VM's serial console exists now: while its QEMU process runs."""
    return vm.status in SERIAL_STATUSES and vm.host_id is not None


def _one_time_password(vm: Vm, protocol: str) -> str | None:
    """The one-time password of the VM's locked graphics server, valid at
    least as long as a ticket; None when the server asks for none (defined
    before consoles were locked, or by another tool)."""
    uri, uuid = vm.host.uri, str(vm.uuid)
    try:
        # Two tickets close together (two tabs, a reconnect) share the password:
        # a fresh one would fail the first client still authenticating.
        password = hypervisor.graphics_password_shared(
            uri, uuid, protocol, valid_for_seconds=settings.CONSOLE_TICKET_SECONDS,
            fresh=lambda: random_graphics_password(protocol))
    except hypervisor.Conflict as error:
        raise Conflict(f"The console of VM {vm.name} cannot be opened now: {error.message}") from error
    except hypervisor.HypervisorError as error:
        raise HypervisorUnavailable(f"The console of VM {vm.name} could not be prepared: {error.message}") from error
    return password


def vm_graphics_protocol(vm: Vm) -> str:
    """The graphics the VM runs with now (vnc, spice or none): a Run Once
    start may have chosen another than the VM's own."""
    run_once = vm.run_once or {}
    return run_once.get("console") or vm.console


def console_ticket_redeem(token: str | None, *, user, vm_id: str | int | None,
                          protocols: Collection[str] = GRAPHICS_PROTOCOLS) -> ConsoleTarget:
    """Use a ticket, once: the console address of its VM on the VM's current
    host. ``user`` is who presents it (from their session or API token),
    ``vm_id`` the VM they asked for. A ticket presented anywhere it does not
    belong is burnt. Raises TicketRefused saying why (never with the ticket).

    A SPICE client opens one connection per channel (main, display, inputs,
    cursor ...) with the same ticket: a SPICE ticket admits its own user to
    its own VM again until it expires; the SPICE server's one-time password
    is the second lock. A serial ticket names no address: the serial
    console is reached through libvirt (consoles/serial.py)."""
    if not token:
        raise TicketRefused("no ticket")
    now = timezone.now()
    with transaction.atomic():
        ticket = (ConsoleTicket.objects.select_related("vm", "vm__host", "user")
                  .filter(token_hash=ticket_hash(token)).first())
        if ticket is None:
            raise TicketRefused("unknown ticket")
        burnt = ConsoleTicket.objects.filter(pk=ticket.pk, used_at__isnull=True).update(used_at=now)
    if not burnt and ticket.protocol != ConsoleProtocol.SPICE:
        raise _refused(ticket, user, "ticket already used")
    if ticket.expires_at <= now:
        raise _refused(ticket, user, "ticket expired")
    if user is None or not user.is_authenticated or user.pk != ticket.user_id:
        raise _refused(ticket, user, "ticket issued to another user")
    if str(vm_id) != str(ticket.vm_id):
        raise _refused(ticket, user, "ticket issued for another VM")
    if ticket.protocol not in protocols:
        raise _refused(ticket, user, f"ticket is for the {ticket.protocol} console")
    vm = ticket.vm
    if not vm_may(user, "console", vm):  # rights withdrawn since it was issued
        raise _refused(ticket, user, "no longer allowed to use this console")
    if vm.host is None:
        raise _refused(ticket, user, "the VM runs on no host")
    if ticket.protocol == ConsoleProtocol.SERIAL:
        return ConsoleTarget(ticket_id=ticket.pk, user=ticket.user, vm=vm, protocol=ticket.protocol, host="", port=0)
    try:
        address = hypervisor.domain_console_address(vm.host.uri, str(vm.uuid), ticket.protocol)
    except hypervisor.HypervisorError as error:
        raise _refused(ticket, user, f"its console cannot be reached: {error.message}") from error
    return ConsoleTarget(ticket_id=ticket.pk, user=ticket.user, vm=vm, protocol=ticket.protocol,
                         host=address.host, port=address.port)


def _refused(ticket: ConsoleTicket, user, reason: str) -> TicketRefused:
    """A known ticket presented in vain is burnt (it opens nothing more, not
    even a SPICE session's further channels) and worth an audit event."""
    ConsoleTicket.objects.filter(pk=ticket.pk, expires_at__gt=timezone.now()).update(expires_at=timezone.now())
    who = user.get_username() if user is not None and user.is_authenticated else "an anonymous client"
    event_record(code="console.refused", severity=Severity.WARNING, user=user, target=ticket.vm,
                 message=f"Console of VM {ticket.vm.name} refused to {who}: {reason}.")
    return TicketRefused(reason)


def console_origin_allowed(origin: str | None, host: str | None) -> bool:
    """Whether a websocket from page ``origin`` may reach the console proxy
    through ``host`` (the Host header the browser sent): only the portal's
    own origin, or one named in CSRF_TRUSTED_ORIGINS (a proxy that rewrites
    the host), never a missing one. The Host must be one we serve."""
    if not origin or not host:
        return False
    host_name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    if not validate_host(host_name.lower(), settings.ALLOWED_HOSTS):
        return False
    if origin in settings.CSRF_TRUSTED_ORIGINS:
        return True
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and parts.netloc.lower() == host.lower()


def console_session_started(target: ConsoleTarget, *, client: str) -> None:
    event_record(code="console.opened", user=target.user, target=target.vm,
                 message=f"{target.user.get_username()} opened the {ConsoleProtocol.label(target.protocol)} "
                         f"console of VM {target.vm.name} from {client}.")


def console_session_ended(target: ConsoleTarget, *, client: str, seconds: float) -> None:
    event_record(code="console.closed", user=target.user, target=target.vm,
                 message=f"{target.user.get_username()} closed the {ConsoleProtocol.label(target.protocol)} "
                         f"console of VM {target.vm.name} from {client} after {seconds:.0f} s.")
