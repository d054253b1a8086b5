"""/ws/serial/ on the portal's own origin: the browser's serial console
(xterm.js, templates/consoles/vm_serial.html) relayed to the VM's serial
console through libvirt (hypervisor/serial.py).

The same ticket scheme as the graphical consoles: a ticket of protocol
``serial`` (``POST vms/<id>/console/``) redeemed once by
``console_ticket_redeem``, with the page's Origin checked first; a refusal
closes the handshake (403) before anything reaches the VM. The session's
start and end are Events, as the graphical consoles' are.

The guest's output is read by a thread of its own per session (libvirt's
stream read blocks) and handed to the event loop; keystrokes go the other
way through ``write``, which returns at once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

import hypervisor
from consoles.models import ConsoleProtocol
from consoles.proxy import client_address
from consoles.services import (
    ConsoleTarget,
    TicketRefused,
    console_origin_allowed,
    console_session_ended,
    console_session_started,
    console_ticket_redeem,
)
from hypervisor.serial import SerialConsole, open_serial_console

logger = logging.getLogger(__name__)


class SerialConsoleConsumer(AsyncWebsocketConsumer):
    console: SerialConsole | None = None
    target: ConsoleTarget | None = None
    started: float = 0.0
    client: str = ""

    async def connect(self):
        headers = {name.decode("latin-1").title(): value.decode("latin-1") for name, value in self.scope["headers"]}
        if not console_origin_allowed(headers.get("Origin"), headers.get("Host")):
            await self.close()
            return
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        self.client = client_address((self.scope.get("client") or ("", 0))[0], headers)
        try:
            self.target = await database_sync_to_async(console_ticket_redeem)(
                (query.get("token") or [None])[0], user=self.scope.get("user"),
                vm_id=(query.get("vm") or [None])[0], protocols=(ConsoleProtocol.SERIAL,))
        except TicketRefused as refused:
            logger.info("serial console refused from %s: %s", self.client, refused.reason)
            await self.close()
            return
        vm = self.target.vm
        try:
            self.console = await asyncio.get_running_loop().run_in_executor(
                None, open_serial_console, vm.host.uri, str(vm.uuid))
        except hypervisor.HypervisorError as error:
            logger.warning("serial console of VM %s could not be opened: %s", vm.name, error.message)
            await self.close()
            return
        await self.accept(subprotocol="binary" if "binary" in (self.scope.get("subprotocols") or []) else None)
        self.started = time.monotonic()
        await database_sync_to_async(console_session_started)(self.target, client=self.client)
        self._read_in_a_thread()

    def _read_in_a_thread(self):
        loop, console = asyncio.get_running_loop(), self.console

        def pump():
            while data := console.read():
                asyncio.run_coroutine_threadsafe(self.send(bytes_data=data), loop)
            asyncio.run_coroutine_threadsafe(self.close(), loop)  # the console ended: so does the page's

        threading.Thread(target=pump, name=f"serial-{self.target.vm.pk}", daemon=True).start()

    async def receive(self, text_data=None, bytes_data=None):
        if self.console is None:
            return
        with contextlib.suppress(hypervisor.HypervisorError):  # closed meanwhile: the pump ends the page
            await asyncio.get_running_loop().run_in_executor(
                None, self.console.write, bytes_data if bytes_data is not None else text_data.encode())

    async def disconnect(self, code):
        if self.console is None:
            return
        console, self.console = self.console, None
        console.close()  # ends the reading thread
        await database_sync_to_async(console_session_ended)(
            self.target, client=self.client, seconds=time.monotonic() - self.started)
