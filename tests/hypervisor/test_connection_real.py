"""Connection loss on a real daemon connection, through a socket relay we can cut."""

from __future__ import annotations

import queue
import shutil
import socket
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from hypervisor import add_close_listener, get_connection

pytestmark = pytest.mark.real

DAEMON_SOCKET = "/var/run/libvirt/libvirt-sock"


class SocketRelay:
    """Relays a unix socket to libvirtd's; ``cut()`` drops every relayed link."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._server = socket.socket(socket.AF_UNIX)
        self._server.bind(str(path))
        self._server.listen(4)
        self._links: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return  # relay closed
            daemon = socket.socket(socket.AF_UNIX)
            daemon.connect(DAEMON_SOCKET)
            self._links += [client, daemon]
            threading.Thread(target=self._pump, args=(client, daemon), daemon=True).start()
            threading.Thread(target=self._pump, args=(daemon, client), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass  # the link was cut
        for end in (source, sink):
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already shut

    def cut(self) -> None:
        for link in self._links:
            try:
                link.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already shut

    def close(self) -> None:
        self.cut()
        self._server.close()


@pytest.fixture
def relayed_uri(libvirtd: str) -> Iterator[tuple[str, SocketRelay]]:
    # A short directory: unix socket paths are limited to 108 bytes.
    directory = Path(tempfile.mkdtemp(prefix="pt-relay-"))
    relay = SocketRelay(directory / "libvirt-sock")
    yield f"qemu+unix:///system?socket={relay.path}", relay
    relay.close()
    shutil.rmtree(directory)


def test_it_drops_a_lost_connection_and_reconnects(relayed_uri):
    uri, relay = relayed_uri
    conn = get_connection(uri)
    reasons: queue.Queue[str] = queue.Queue()
    add_close_listener(conn, reasons.put)

    relay.cut()

    assert reasons.get(timeout=5.0) in ("eof", "error")
    again = get_connection(uri)
    assert again is not conn
    assert again.getType() == "QEMU"
