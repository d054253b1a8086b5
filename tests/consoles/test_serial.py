"""The serial console's websocket (/ws/serial/) refuses before accepting:
another origin, no ticket, a ticket of another kind, another user's; a
host that cannot open the console closes it too. Nothing reaches libvirt's
console unless a serial ticket of this user and VM is presented from the
portal's own origin (the whole way to a real guest: tests/e2e)."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator

from consoles.models import ConsoleTicket
from consoles.serial import SerialConsoleConsumer
from consoles.services import console_ticket_issue
from core.models import Event

pytestmark = pytest.mark.django_db(transaction=True)

OWN = [(b"origin", b"http://127.0.0.1:8000"), (b"host", b"127.0.0.1:8000")]


def connects(user, path: str, headers=OWN) -> bool:
    async def scenario():
        communicator = WebsocketCommunicator(SerialConsoleConsumer.as_asgi(), path, headers=headers,
                                             subprotocols=["binary"])
        communicator.scope["user"] = user
        connected, _ = await communicator.connect()
        await communicator.disconnect()
        return connected
    return async_to_sync(scenario)()


def test_it_refuses_another_origin_and_leaves_the_ticket_unused(console_vms, alice):
    web1, _ = console_vms
    issued = console_ticket_issue(user=alice, vm=web1, protocol="serial")
    evil = [(b"origin", b"http://evil.example"), (b"host", b"127.0.0.1:8000")]
    assert not connects(alice, issued.websocket_path, headers=evil)
    assert not connects(alice, issued.websocket_path, headers=[(b"host", b"127.0.0.1:8000")])  # no Origin
    assert ConsoleTicket.objects.get().used_at is None


def test_it_refuses_a_missing_a_garbled_and_another_kinds_ticket(console_vms, alice):
    web1, _ = console_vms
    assert not connects(alice, f"/ws/serial/?vm={web1.pk}")
    assert not connects(alice, f"/ws/serial/?token=garbage&vm={web1.pk}")
    vnc = console_ticket_issue(user=alice, vm=web1, protocol="vnc")
    assert not connects(alice, f"/ws/serial/?token={vnc.ticket}&vm={web1.pk}")
    assert "ticket is for the vnc console" in Event.objects.get(code="console.refused").message


def test_it_refuses_another_users_ticket(console_vms, alice, bob):
    web1, _ = console_vms
    issued = console_ticket_issue(user=alice, vm=web1, protocol="serial")
    assert not connects(bob, issued.websocket_path)
    assert "ticket issued to another user" in Event.objects.get(code="console.refused").message


def test_a_host_that_cannot_open_the_console_closes_the_socket_without_a_session(console_vms, alice):
    web1, _ = console_vms  # libvirt's test driver has no console streams
    issued = console_ticket_issue(user=alice, vm=web1, protocol="serial")
    assert not connects(alice, issued.websocket_path)
    assert ConsoleTicket.objects.get().used_at is not None  # the ticket was good: the host said no
    assert not Event.objects.filter(code="console.opened").exists()
