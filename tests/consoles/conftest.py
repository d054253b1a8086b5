"""Consoles' fixtures: VMs running on a simulated host whose VNC "server" is a
socket of ours that counts who reaches it, and a hand-made WebSocket handshake.
The console proxy and nginx are in tests/plugins/consoles.py."""

from __future__ import annotations

import base64
import os
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from inventory.choices import HostStatus
from tests.consoles.support import real_vm
from tests.inventory.factories import ClusterFactory, HostFactory
from tests.vms.factories import OperatingSystemFactory
from vms.choices import VmStatus
from tests.vms.test_views import cluster, fresh_simulated_hosts, host, network
from vms.models import Vm

# The VM pages' simulated world and a VM running on the real libvirtd (tests/consoles/support.py).
__all__ = ["cluster", "fresh_simulated_hosts", "host", "network", "real_vm"]

RFB_BANNER = b"RFB 003.008\n"


@dataclass
class FakeVnc:
    """Where the simulated domains' VNC listens: answers the RFB banner and
    counts the connections that reached it."""

    port: int
    connections: list = field(default_factory=list)


@pytest.fixture
def fake_vnc():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    vnc = FakeVnc(port=server.getsockname()[1])
    stop = threading.Event()

    def serve():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, peer = server.accept()
            except TimeoutError:
                continue
            vnc.connections.append(peer)
            conn.sendall(RFB_BANNER)
            threading.Thread(target=_drain, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield vnc
    stop.set()
    thread.join(2)
    server.close()


def _drain(conn: socket.socket) -> None:
    with conn:
        try:
            while conn.recv(4096):
                pass
        except OSError:
            pass


def _node_xml(vms: list[Vm], vnc_port: int) -> str:
    domains = "".join(f"""
  <domain type='test'>
    <name>{vm.name}</name><uuid>{vm.uuid}</uuid><memory>65536</memory><vcpu>1</vcpu>
    <os><type>hvm</type></os>
    <devices><graphics type='vnc' port='{vnc_port}' autoport='no'><listen type='address' address='127.0.0.1'/></graphics></devices>
  </domain>""" for vm in vms)
    return f"<node>{domains}\n</node>\n"


@pytest.fixture
def console_vms(tmp_path: Path, fake_vnc: FakeVnc, alice):
    """Two running VMs of alice's (web1, web2) on one simulated host whose
    domains' VNC port is fake_vnc's."""
    cluster = ClusterFactory(name="prod")
    os_type = OperatingSystemFactory()
    vms = [Vm.objects.create(name=name, cluster=cluster, data_center=cluster.data_center, os_type=os_type,
                             memory_mb=256, memory_guaranteed_mb=256, status=VmStatus.UP, owner=alice)
           for name in ("web1", "web2")]
    node = tmp_path / "console-host.xml"
    node.write_text(_node_xml(vms, fake_vnc.port))
    host = HostFactory(name="node1", cluster=cluster, uri=f"test://{node}", status=HostStatus.UP,
                       domain_type="test", facts_updated_at=timezone.now())
    Vm.objects.filter(pk__in=[vm.pk for vm in vms]).update(host=host)
    for vm in vms:
        vm.refresh_from_db()
    return vms


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


@dataclass
class Handshake:
    status: int
    sock: socket.socket | None

    def first_message(self, timeout: float = 5.0) -> bytes:
        """The payload of the first WebSocket frame the server sends."""
        self.sock.settimeout(timeout)
        header = _read(self.sock, 2)
        length = header[1] & 0x7F
        if length == 126:
            length = int.from_bytes(_read(self.sock, 2), "big")
        elif length == 127:
            length = int.from_bytes(_read(self.sock, 8), "big")
        return _read(self.sock, length)


def _read(sock: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


def websocket_handshake(port: int, path: str, *, headers: dict[str, str], tls_context=None,
                        server_name: str = "127.0.0.1") -> Handshake:
    """A browser's WebSocket opening handshake, by hand: the status the server answers."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    if tls_context is not None:
        sock = tls_context.wrap_socket(sock, server_hostname=server_name)
    lines = [f"GET {path} HTTP/1.1", "Upgrade: websocket", "Connection: Upgrade",
             f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}", "Sec-WebSocket-Version: 13",
             "Sec-WebSocket-Protocol: binary", *(f"{name}: {value}" for name, value in headers.items())]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(1)
        if not chunk:
            break
        head += chunk
    parts = head.split(b" ", 2)
    status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
    if status != 101:
        sock.close()
        return Handshake(status, None)
    return Handshake(status, sock)

