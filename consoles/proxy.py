"""The console proxy: websockify's WebSocket-to-TCP server with our own ticket
check in place of its token file (run by ``manage.py console_proxy``).

Each connection is handled in its own process (websockify forks one per
client). Before the WebSocket handshake is answered, the request must come
from the portal's own origin, present an unused ticket for the VM it names,
issued to the user whose session (or API token) comes with it; only then is
the VM's console address looked up (on its current host) and connected to.
Anything else is answered 403 and nothing reaches the VM's port. The ticket
never appears in a log line: websockify's own lines pass through
``redact`` first. Every session is recorded as two events, opened and
closed, with who, which VM and from where."""

from __future__ import annotations

import ipaddress
import logging
import re
import time
from http.cookies import CookieError, SimpleCookie
from importlib import import_module
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.contrib.auth import get_user
from django.contrib.auth.models import AnonymousUser
from django.db import close_old_connections, connections
from django.http import HttpRequest
from websockify.websocketproxy import ProxyRequestHandler, WebSocketProxy

from consoles.services import (
    TicketRefused,
    console_origin_allowed,
    console_session_ended,
    console_session_started,
    console_ticket_redeem,
)

logger = logging.getLogger(__name__)

_TOKEN_IN_TEXT = re.compile(r"(token=)[^&\s'\"]*")


def redact(text: str) -> str:
    """The text with any ``token=<ticket>`` blanked out."""
    return _TOKEN_IN_TEXT.sub(r"\1[hidden]", text)


def presenting_user(headers):
    """Who comes with the request: the portal session of the Cookie header, or
    the user of an ``Authorization: Token <key>`` header (API clients)."""
    authorization = headers.get("Authorization") or ""
    if authorization.startswith("Token "):
        from rest_framework.authtoken.models import Token

        token = Token.objects.select_related("user").filter(key=authorization[6:].strip()).first()
        return token.user if token and token.user.is_active else AnonymousUser()
    cookies = SimpleCookie()
    try:
        cookies.load(headers.get("Cookie") or "")
    except CookieError:
        return AnonymousUser()
    session_cookie = cookies.get(settings.SESSION_COOKIE_NAME)
    request = HttpRequest()
    request.session = import_module(settings.SESSION_ENGINE).SessionStore(
        session_cookie.value if session_cookie else None)
    return get_user(request)


def client_address(peer: str, headers) -> str:
    """Where the browser is: a proxy on this machine (nginx, the portal's
    relay) says so in X-Forwarded-For, its last entry being what it saw;
    anyone else is where the connection comes from."""
    forwarded = [part.strip() for part in (headers.get("X-Forwarded-For") or "").split(",") if part.strip()]
    try:
        local = ipaddress.ip_address(peer).is_loopback
    except ValueError:
        local = False
    return forwarded[-1] if local and forwarded else peer


class ConsoleProxyHandler(ProxyRequestHandler):
    console_target = None

    def log_message(self, format, *args):  # noqa: A002 (websockify's signature)
        super().log_message("%s", redact(format % args if args else format))

    def validate_connection(self):
        close_old_connections()
        client = client_address(self.client_address[0], self.headers)
        if not console_origin_allowed(self.headers.get("Origin"), self.headers.get("Host")):
            self._refuse(client, "request from another origin")
        query = parse_qs(urlsplit(self.path).query)
        token = (query.get("token") or [None])[0]
        vm_id = (query.get("vm") or [None])[0]
        try:
            target = console_ticket_redeem(token, user=presenting_user(self.headers), vm_id=vm_id)
        except TicketRefused as refused:
            self._refuse(client, refused.reason)
        self.client = client
        self.console_target = target
        self.server.target_host = target.host
        self.server.target_port = target.port

    def _refuse(self, client: str, reason: str):
        logger.warning("console refused to %s: %s", client, reason)
        self.send_error(403, "Console refused")
        raise self.server.EClose("")

    def new_websocket_client(self):
        target = self.console_target
        started = time.monotonic()
        console_session_started(target, client=self.client)
        try:
            super().new_websocket_client()
        finally:
            close_old_connections()
            console_session_ended(target, client=self.client, seconds=time.monotonic() - started)
            connections.close_all()


def _preload() -> None:
    """Import now what each session's process would otherwise import again
    after the fork (the session engine, the auth backends, DRF's tokens,
    libvirt): a tenth of a second per connection on a busy machine."""
    for module in ("rest_framework.authtoken.models", "hypervisor", settings.SESSION_ENGINE):
        import_module(module)
    presenting_user({})


def serve(listen_host: str, listen_port: int) -> None:
    """Run the proxy until interrupted. The database connection is closed
    first: each client's process opens its own."""
    _preload()
    connections.close_all()
    server = WebSocketProxy(RequestHandlerClass=ConsoleProxyHandler, listen_host=listen_host,
                            listen_port=listen_port, heartbeat=30)
    server.start_server()
