"""The ticket rules through the real console proxy (websockify, its own
process, on the test database): only a fresh ticket of the presenting user
for the VM it names, from the portal's own origin, reaches the VM's console;
every refusal is a 403 before anything reaches the VM's port."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from consoles.models import ConsoleTicket
from consoles.services import console_ticket_issue
from core.models import Event
from tests.consoles.conftest import RFB_BANNER, session_cookie, websocket_handshake

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = "http://127.0.0.1:8000"  # the portal as the browser sees it (ALLOWED_HOSTS has 127.0.0.1)


def headers_for(user, *, origin: str = ORIGIN, host: str = "127.0.0.1:8000") -> dict[str, str]:
    headers = {"Host": host, "Cookie": session_cookie(user)}
    if origin is not None:
        headers["Origin"] = origin
    return headers


def open_console(proxy, user, vm, ticket: str | None, **options):
    query = "&".join(part for part in (f"token={ticket}" if ticket is not None else "", f"vm={vm.pk}") if part)
    return websocket_handshake(proxy.port, f"/websockify?{query}", headers=headers_for(user, **options))


def test_a_fresh_ticket_of_the_owner_reaches_the_vms_vnc_server(console_proxy, console_vms, fake_vnc, alice):
    web1, _ = console_vms
    issued = console_ticket_issue(user=alice, vm=web1, protocol="vnc")
    handshake = open_console(console_proxy, alice, web1, issued.ticket)
    assert handshake.status == 101
    assert handshake.first_message() == RFB_BANNER
    assert len(fake_vnc.connections) == 1
    handshake.sock.close()
    deadline = time.monotonic() + 10
    while not Event.objects.filter(code="console.closed").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    opened = Event.objects.get(code="console.opened")
    assert opened.user == alice and opened.target_id == str(web1.pk) and "from 127.0.0.1" in opened.message
    assert Event.objects.filter(code="console.closed", user=alice, target_id=str(web1.pk)).exists()


@pytest.mark.parametrize("case", ["expired", "reused", "another VM's", "another user's", "garbage", "missing",
                                  "cross-origin", "no origin"])
def test_a_ticket_is_refused_without_reaching_the_vms_port(case, console_proxy, console_vms, fake_vnc, alice, bob):
    web1, web2 = console_vms
    issued = console_ticket_issue(user=alice, vm=web1, protocol="vnc")
    user, vm, ticket, options = alice, web1, issued.ticket, {}
    if case == "expired":
        ConsoleTicket.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    elif case == "reused":
        first = open_console(console_proxy, alice, web1, issued.ticket)
        assert first.status == 101 and first.first_message() == RFB_BANNER
        first.sock.close()
        fake_vnc.connections.clear()
    elif case == "another VM's":
        vm = web2
    elif case == "another user's":
        user = bob
    elif case == "garbage":
        ticket = "x" * 43
    elif case == "missing":
        ticket = None
    elif case == "cross-origin":
        options = {"origin": "http://evil.test"}
    elif case == "no origin":
        options = {"origin": None}
    handshake = open_console(console_proxy, user, vm, ticket, **options)
    assert handshake.status == 403
    time.sleep(0.2)
    assert fake_vnc.connections == []


def test_a_ticket_shown_in_the_wrong_place_is_burnt(console_proxy, console_vms, fake_vnc, alice, bob):
    web1, _ = console_vms
    issued = console_ticket_issue(user=alice, vm=web1, protocol="vnc")
    assert open_console(console_proxy, bob, web1, issued.ticket).status == 403
    assert open_console(console_proxy, alice, web1, issued.ticket).status == 403
    assert fake_vnc.connections == []
    refused = Event.objects.filter(code="console.refused").order_by("pk")
    assert [event.user for event in refused] == [bob, alice]
    assert "another user" in refused[0].message and "already used" in refused[1].message


def test_an_api_token_user_may_present_their_ticket(console_proxy, console_vms, fake_vnc, alice):
    from rest_framework.authtoken.models import Token

    web1, _ = console_vms
    api = APIClient()
    api.force_authenticate(alice)
    body = api.post(reverse("api:vm-console", args=[web1.pk]), {}, format="json").json()
    token = Token.objects.create(user=alice)
    handshake = websocket_handshake(console_proxy.port, body["websocket_path"], headers={
        "Host": "127.0.0.1:8000", "Origin": ORIGIN, "Authorization": f"Token {token.key}"})
    assert handshake.status == 101 and handshake.first_message() == RFB_BANNER
    handshake.sock.close()


def test_the_proxy_never_writes_a_ticket_into_its_log(console_proxy, console_vms, alice, bob):
    web1, _ = console_vms
    tickets = [console_ticket_issue(user=alice, vm=web1, protocol="vnc").ticket for _ in range(3)]
    open_console(console_proxy, alice, web1, tickets[0]).sock.close()
    open_console(console_proxy, bob, web1, tickets[1])
    open_console(console_proxy, alice, web1, tickets[2], origin="http://evil.test")
    time.sleep(0.5)
    log = console_proxy.log.read_text()
    assert "console refused to 127.0.0.1: ticket issued to another user" in log
    assert not any(ticket in log for ticket in tickets)
