"""A small asyncio WebSocket client (RFC 6455, binary messages only): how the
portal's own /websockify endpoint (consoles/consumers.py) reaches the console
proxy, passing on the browser's Origin, Host, Cookie and address so that the
proxy decides exactly as it does behind nginx."""

from __future__ import annotations

import asyncio
import base64
import os
import struct
from urllib.parse import urlsplit

OP_CONTINUATION, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
MAX_HEADER_BYTES = 16 * 1024


class HandshakeRefused(Exception):
    def __init__(self, status: int):
        super().__init__(f"the console proxy answered {status}")
        self.status = status


class WebSocketClient:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, subprotocol: str | None):
        self.reader, self.writer, self.subprotocol = reader, writer, subprotocol

    @classmethod
    async def connect(cls, url: str, *, headers: dict[str, str], subprotocols: list[str],
                      timeout: float = 10.0) -> WebSocketClient:
        parts = urlsplit(url)
        reader, writer = await asyncio.wait_for(asyncio.open_connection(parts.hostname, parts.port), timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [f"GET {parts.path or '/'}{'?' + parts.query if parts.query else ''} HTTP/1.1",
                 "Upgrade: websocket", "Connection: Upgrade", f"Sec-WebSocket-Key: {key}",
                 "Sec-WebSocket-Version: 13"]
        if subprotocols:
            lines.append(f"Sec-WebSocket-Protocol: {', '.join(subprotocols)}")
        lines += [f"{name}: {value}" for name, value in headers.items() if value and "\n" not in value]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            writer.close()
            raise HandshakeRefused(0) from None
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split()[1]) if len(status_line.split()) > 1 else 0
        if status != 101:
            writer.close()
            raise HandshakeRefused(status)
        answered = {name.strip().lower(): value.strip()
                    for name, _, value in (line.partition(":") for line in header_lines if line)}
        return cls(reader, writer, answered.get("sec-websocket-protocol"))

    async def receive(self) -> bytes | None:
        """The next message's payload, or None when the connection closed."""
        message = b""
        while True:
            try:
                first, second = await self.reader.readexactly(2)
                length = second & 0x7F
                if length == 126:
                    (length,) = struct.unpack("!H", await self.reader.readexactly(2))
                elif length == 127:
                    (length,) = struct.unpack("!Q", await self.reader.readexactly(8))
                mask = await self.reader.readexactly(4) if second & 0x80 else None
                payload = await self.reader.readexactly(length)
            except (asyncio.IncompleteReadError, ConnectionError):
                return None
            if mask:
                payload = bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))
            opcode = first & 0x0F
            if opcode == OP_CLOSE:
                await self.close()
                return None
            if opcode == OP_PING:
                await self._send_frame(OP_PONG, payload)
                continue
            if opcode == OP_PONG:
                continue
            message += payload
            if first & 0x80:  # FIN: the message is complete
                return message

    async def send(self, data: bytes) -> None:
        await self._send_frame(OP_BINARY, data)

    async def _send_frame(self, opcode: int, data: bytes) -> None:
        length = len(data)
        if length < 126:
            header = struct.pack("!BB", 0x80 | opcode, 0x80 | length)
        elif length < 1 << 16:
            header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, length)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, length)
        mask = os.urandom(4)  # a client masks every frame (RFC 6455 5.3)
        masked = (int.from_bytes(data, "big") ^ int.from_bytes((mask * (length // 4 + 1))[:length], "big")
                  ).to_bytes(length, "big") if length else b""
        self.writer.write(header + mask + masked)
        await self.writer.drain()

    async def close(self) -> None:
        if not self.writer.is_closing():
            try:
                await self._send_frame(OP_CLOSE, struct.pack("!H", 1000))
            except ConnectionError:
                pass
            self.writer.close()
