"""/websockify on the portal's own origin (daphne, ``make run``): relays the
browser's console WebSocket to the console proxy (CONSOLE_PROXY_URL) with the
browser's Origin, Host, Cookie and address, so the proxy checks the ticket,
the user and the origin exactly as when nginx routes the path to it. The
relay decides nothing itself: a refusal there is a refusal here (403)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from consoles.relay import HandshakeRefused, WebSocketClient

logger = logging.getLogger(__name__)

PASSED_HEADERS = (b"origin", b"host", b"cookie", b"authorization", b"user-agent")


class ConsoleRelayConsumer(AsyncWebsocketConsumer):
    upstream: WebSocketClient | None = None
    pump: asyncio.Task | None = None

    async def connect(self):
        headers = {name.decode("latin-1").title(): value.decode("latin-1")
                   for name, value in self.scope["headers"] if name in PASSED_HEADERS}
        client = self.scope.get("client") or ("", 0)
        headers["X-Forwarded-For"] = client[0]
        query = self.scope.get("query_string", b"").decode("latin-1")
        url = settings.CONSOLE_PROXY_URL.rstrip("/") + "/" + ("?" + query if query else "")
        try:
            self.upstream = await WebSocketClient.connect(url, headers=headers, subprotocols=["binary"])
        except HandshakeRefused:
            await self.close()  # before accept: the browser's handshake gets 403
            return
        except OSError as error:
            logger.error("console proxy at %s unreachable: %s", settings.CONSOLE_PROXY_URL, error)
            await self.close()
            return
        wanted = self.scope.get("subprotocols") or []
        await self.accept(subprotocol="binary" if "binary" in wanted else None)
        self.pump = asyncio.ensure_future(self._pump())

    async def _pump(self):
        """The console's bytes to the browser, until either side closes."""
        while (data := await self.upstream.receive()) is not None:
            await self.send(bytes_data=data)
        await self.close()

    async def receive(self, text_data=None, bytes_data=None):
        if self.upstream is not None:
            await self.upstream.send(bytes_data if bytes_data is not None else text_data.encode())

    async def disconnect(self, code):
        if self.pump is not None:
            self.pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.pump
        if self.upstream is not None:
            await self.upstream.close()
