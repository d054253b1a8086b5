"""One origin: the console's WebSocket is a path on the portal itself, through
the test daphne (which relays /websockify to the console proxy) and through
nginx with TLS running docs/nginx-portal.conf; the proxy's answer is the same."""

from __future__ import annotations

import http.client
import ssl
import time

import pytest

from consoles.services import console_ticket_issue
from core.models import Event
from tests.consoles.conftest import RFB_BANNER, session_cookie, websocket_handshake

pytestmark = [pytest.mark.real, pytest.mark.django_db(transaction=True)]


def test_the_rfb_banner_comes_through_the_portals_own_websockify_path(portal_server, console_proxy, console_vms,
                                                                     fake_vnc, alice):
    web1, _ = console_vms
    issued = console_ticket_issue(user=alice, vm=web1, protocol="vnc")
    origin = f"127.0.0.1:{portal_server.port}"
    handshake = websocket_handshake(portal_server.port, issued.websocket_path, headers={
        "Host": origin, "Origin": f"http://{origin}", "Cookie": session_cookie(alice)})
    assert handshake.status == 101
    assert handshake.first_message() == RFB_BANNER
    handshake.sock.close()
    assert len(fake_vnc.connections) == 1
    deadline = time.monotonic() + 5
    while not Event.objects.filter(code="console.opened").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    # The relay passes on where the browser is.
    assert "from 127.0.0.1" in Event.objects.get(code="console.opened").message


def test_the_portals_path_refuses_what_the_proxy_refuses(portal_server, console_proxy, console_vms, fake_vnc,
                                                         alice, bob):
    web1, _ = console_vms
    origin = f"127.0.0.1:{portal_server.port}"
    for user, ticket_of, headers in (
        (bob, alice, {"Origin": f"http://{origin}"}),  # another user's ticket
        (alice, alice, {"Origin": "http://evil.test"}),  # cross-origin
    ):
        issued = console_ticket_issue(user=ticket_of, vm=web1, protocol="vnc")
        handshake = websocket_handshake(portal_server.port, issued.websocket_path, headers={
            "Host": origin, "Cookie": session_cookie(user), **headers})
        assert handshake.status == 403
    assert fake_vnc.connections == []


def tls_context(nginx) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(nginx.cert))
    return context


def test_the_rfb_banner_comes_through_nginx_with_tls(nginx, console_vms, fake_vnc, alice):
    web1, _ = console_vms
    issued = console_ticket_issue(user=alice, vm=web1, protocol="vnc")
    origin = f"127.0.0.1:{nginx.https_port}"
    handshake = websocket_handshake(nginx.https_port, issued.websocket_path, tls_context=tls_context(nginx), headers={
        "Host": origin, "Origin": f"https://{origin}", "Cookie": session_cookie(alice)})
    assert handshake.status == 101
    assert handshake.first_message() == RFB_BANNER
    handshake.sock.close()
    assert len(fake_vnc.connections) == 1
    # nginx logs the console's path (once the session ended), never its ticket.
    access_log, deadline = "", time.monotonic() + 10
    while "/websockify" not in access_log and time.monotonic() < deadline:
        time.sleep(0.2)
        access_log = (nginx.prefix / "logs" / "access.log").read_text()
    assert '"GET /websockify"' in access_log and issued.ticket not in access_log


def test_nginx_passes_the_proxys_refusals_and_serves_the_portal(nginx, console_vms, fake_vnc, alice):
    web1, _ = console_vms
    issued = console_ticket_issue(user=alice, vm=web1, protocol="vnc")
    origin = f"127.0.0.1:{nginx.https_port}"
    handshake = websocket_handshake(nginx.https_port, issued.websocket_path, tls_context=tls_context(nginx), headers={
        "Host": origin, "Origin": "https://evil.test", "Cookie": session_cookie(alice)})
    assert handshake.status == 403 and fake_vnc.connections == []
    # Everything else goes to the portal (daphne): its login page.
    connection = http.client.HTTPSConnection("127.0.0.1", nginx.https_port, context=tls_context(nginx), timeout=10)
    connection.request("GET", "/login/", headers={"Host": origin})
    response = connection.getresponse()
    assert response.status == 200 and b"csrfmiddlewaretoken" in response.read()
    # Plain HTTP is sent to HTTPS.
    plain = http.client.HTTPConnection("127.0.0.1", nginx.http_port, timeout=10)
    plain.request("GET", "/login/")
    assert plain.getresponse().status == 301
