"""Files that open a VM's console in a native client: remote-viewer's ``.vv``
(VNC or SPICE) and, for Windows guests, ``.rdp``.

An ``.rdp`` file points the client at the guest's own address, as its QEMU
guest agent reports it (``hypervisor.guest_addresses``); without an agent
answering there is no address to give, and the refusal says what to do.
Windows asks for its own credentials: the file holds no secret.

A ``.vv`` file carries a fresh one-time password set on the VM's graphics
server through libvirt (``hypervisor.consoles``) for
``CONSOLE_CLIENT_PASSWORD_SECONDS``: the file is worth nothing after that,
and each download replaces the previous file's password. It names only what
the client needs to connect (protocol, address, port, password, a title).
Who may download it is the console's rule (``vms.permissions``, action
``console``); each download is an Event.
"""

from __future__ import annotations

import configparser
import io
import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

import hypervisor
from core.errors import Conflict, HypervisorUnavailable
from core.events import event_record
from hypervisor.guest_addresses import domain_guest_addresses
from consoles.services import vm_graphics_protocol
from hypervisor.consoles import ConsoleAddress, domain_console_address, set_graphics_password
from hypervisor.specs import random_graphics_password
from vms.choices import VmStatus
from vms.models import Vm
from vms.permissions import vm_require
from vms.services.screenshot import no_screen_because


@dataclass(frozen=True)
class ClientFile:
    filename: str
    content: str
    content_type: str


VV_CONTENT_TYPE = "application/x-virt-viewer"
RDP_CONTENT_TYPE = "application/x-rdp"
RDP_PORT = 3389


def client_address(vm: Vm, address: ConsoleAddress) -> str:
    """The address a native client connects to for the console at ``address``.

    A server listening on the host's loopback is reachable only from that
    machine: fine when the host is the portal's own machine (a local URI),
    a Conflict otherwise (the browser's console goes through the portal)."""
    try:
        loopback = ipaddress.ip_address(address.host).is_loopback
    except ValueError:
        loopback = False  # a host name: reachable as far as we can tell
    if loopback and urlsplit(vm.host.uri).hostname:
        raise Conflict(f"The console of VM {vm.name} listens only inside its host {vm.host.name}; "
                       "a native client cannot reach it. Use the console in the browser.")
    return address.host


def console_vv_file(*, vm: Vm, user, client: str = "") -> ClientFile:
    """A remote-viewer file for the VM's console with a one-time password,
    for whoever may use the console (403 for others, 409 without a screen,
    503 when the host does not answer). ``client`` (the requester's address)
    goes into the Event."""
    vm_require(user, "console", vm)
    if reason := no_screen_because(vm):
        raise Conflict(reason)
    protocol = vm_graphics_protocol(vm)
    password = random_graphics_password(protocol)
    try:
        console = domain_console_address(vm.host.uri, str(vm.uuid), protocol)
        address = client_address(vm, console)
        valid_to = set_graphics_password(vm.host.uri, str(vm.uuid), protocol, password,
                                         valid_for_seconds=settings.CONSOLE_CLIENT_PASSWORD_SECONDS)
    except hypervisor.Conflict as error:
        raise Conflict(f"The console of VM {vm.name} cannot be opened now: {error.message}") from error
    except hypervisor.HypervisorError as error:
        raise HypervisorUnavailable(f"The console of VM {vm.name} could not be prepared: {error.message}") from error

    ini = configparser.RawConfigParser()
    ini.optionxform = str  # remote-viewer's keys are case-sensitive
    ini["virt-viewer"] = {
        "type": protocol,
        "host": address,
        "port": str(console.port),
        "password": password,
        # remote-viewer removes the file once it has read it.
        "delete-this-file": "1",
        "title": f"{vm.name} - Shift+F12 releases the cursor",
        "release-cursor": "shift+f12",
        "secure-attention": "ctrl+alt+end",
    }
    out = io.StringIO()
    ini.write(out, space_around_delimiters=False)

    until = valid_to.strftime("%H:%M:%S UTC")
    event_record(code="console.client_file", user=user, target=vm,
                 message=f"{_who(user)} downloaded a remote-viewer file for the {protocol.upper()} console of "
                         f"VM {vm.name}{_from(client)}; its password works until {until}.")
    return ClientFile(filename=f"{_safe_name(vm.name)}.vv", content=out.getvalue(), content_type=VV_CONTENT_TYPE)


def console_rdp_file(*, vm: Vm, user, client: str = "") -> ClientFile:
    """An RDP file for a running Windows guest, pointing at the address its
    guest agent reports (403 as the console, 409 for another OS, a VM not
    running, or no agent answering: saying what to do)."""
    vm_require(user, "console", vm)
    if vm.os_type.family != "windows":
        raise Conflict(f"VM {vm.name} runs {vm.os_type.name}, not Windows: RDP files are for Windows guests. "
                       "Use its console in the browser or the remote-viewer file.")
    if vm.status != VmStatus.UP or vm.host_id is None:
        raise Conflict(f"VM {vm.name} is {VmStatus.label(vm.status).lower()}: RDP needs it running.")
    try:
        addresses = domain_guest_addresses(vm.host.uri, str(vm.uuid))
    except hypervisor.Conflict as error:
        raise Conflict(f"The address of VM {vm.name} is not known: {error.message} Install the QEMU guest "
                       "agent in Windows (virtio-win guest tools) and start it, or connect your RDP client to "
                       "the address Windows shows in its network settings.") from error
    except hypervisor.HypervisorError as error:
        raise HypervisorUnavailable(f"The address of VM {vm.name} could not be read: {error.message}") from error
    if not addresses:
        raise Conflict(f"The guest agent of VM {vm.name} reports no network address yet: the guest may still be "
                       "starting its network. Try again in a moment.")
    address = addresses[0].address
    host = f"[{address}]" if addresses[0].version == 6 else address
    lines = [f"full address:s:{host}:{RDP_PORT}", "prompt for credentials:i:1", "screen mode id:i:2", ""]
    event_record(code="console.client_file", user=user, target=vm,
                 message=f"{_who(user)} downloaded an RDP file for VM {vm.name} ({address}){_from(client)}.")
    # Windows' client reads CRLF lines.
    return ClientFile(filename=f"{_safe_name(vm.name)}.rdp", content="\r\n".join(lines), content_type=RDP_CONTENT_TYPE)


def _who(user) -> str:
    return user.get_username() if user and user.is_authenticated else "Someone"


def _from(client: str) -> str:
    return f" from {client}" if client else ""


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name) or "console"
