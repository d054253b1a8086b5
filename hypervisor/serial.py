"""A running domain's serial console as a byte stream (libvirt's
virDomainOpenConsole), for the browser's serial console.

Each console gets a connection of its own: its stream is read by a blocking
``read`` in a worker thread for as long as the session lasts, which must not
hold up the shared cached connection. A domain has one console session at a
time; opening it takes it over from whoever had it (a reloaded page, or a
``virsh console`` left open), as ``virsh console --force`` does.
"""

from __future__ import annotations

import threading

import libvirt

from hypervisor.connection import open_connection
from hypervisor.domains import _require_state
from hypervisor.errors import HypervisorError, libvirt_errors

READ_CHUNK = 4096
_ACTIVE = frozenset({"running", "blocked", "paused"})


class SerialConsole:
    """The first serial console of a running domain: ``read`` (blocks until
    the guest prints; b"" once the console closed) and ``write``."""

    def __init__(self, uri: str, uuid: str):
        self.uri = uri
        self._conn = open_connection(uri)
        self._closed = threading.Event()
        try:
            with libvirt_errors(uri):
                domain = self._conn.lookupByUUIDString(uuid)
                _require_state(uri, domain, _ACTIVE, "open the serial console of")
                self._stream = self._conn.newStream(0)
                domain.openConsole(None, self._stream, libvirt.VIR_DOMAIN_CONSOLE_FORCE)
        except BaseException:
            self._conn.close()
            raise

    def read(self) -> bytes:
        """What the guest printed next; b"" when the console is closed."""
        if self._closed.is_set():
            return b""
        try:
            data = self._stream.recv(READ_CHUNK)
        except libvirt.libvirtError:
            # Taken over by another session, the domain stopped, or close() from
            # another thread: all end this session the same way.
            self.close()
            return b""
        if not isinstance(data, bytes) or not data:
            self.close()
            return b""
        return data

    def write(self, data: bytes) -> None:
        if self._closed.is_set():
            raise HypervisorError(f"The serial console on {self.uri} is closed.", uri=self.uri)
        with libvirt_errors(self.uri):
            sent = 0
            while sent < len(data):
                sent += self._stream.send(data[sent:])

    def close(self) -> None:
        if self._closed.is_set():
            return
        self._closed.set()
        for step in (self._stream.abort, self._conn.close):
            try:
                step()
            except libvirt.libvirtError:
                pass  # already gone: closing is all that was asked


def open_serial_console(uri: str, uuid: str) -> SerialConsole:
    """Open the running domain's serial console (Conflict when it is not running)."""
    return SerialConsole(uri, uuid)
