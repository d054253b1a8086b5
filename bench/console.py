"""Benchmark of browser consoles through the console proxy (consoles/proxy.py).

Boots two tiny guests (var/guest-image, TCG, VNC on loopback) on the local
libvirtd as transient domains, runs ``manage.py console_proxy`` on a
throwaway SQLite database, and drives the proxy as noVNC would, over a
WebSocket with the ``binary`` subprotocol and the owner's session cookie:

1. ticket -> first framebuffer update: issue a ticket (consoles.services),
   open the WebSocket, do the RFB handshake (3.8, no auth, shared), ask for
   the whole screen and stop the clock at the first FramebufferUpdate. The
   median, p95 and max over ``--runs`` sessions opened one after another.
2. concurrent sessions: ``--sessions`` sessions (half on each guest: QEMU's
   VNC drops the oldest client beyond 32) opened and held at once, each
   having received its first framebuffer update; the proxy's memory as the
   sum of the proportional set size (PSS) of its processes (websockify forks
   one per session) before and while they are held, and per session.

    .venv/bin/python bench/console.py
    .venv/bin/python bench/console.py --runs 50 --sessions 100

Needs a running libvirtd (qemu:///system) and the guest image (scripts/setup
test builds both). Figures are printed, never checked.
"""

from __future__ import annotations

import argparse
import base64
import os
import platform
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(REPO))

import inventory_api  # noqa: E402  (Django-free at import)

URI = "qemu:///system"
GUEST_IMAGE = REPO / "var" / "guest-image" / "guest.qcow2"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20, help="sessions timed one after another (default 20)")
    parser.add_argument("--sessions", type=int, default=50, help="sessions held at once (default 50)")
    args = parser.parse_args()
    if not GUEST_IMAGE.exists():
        print(f"No guest image at {GUEST_IMAGE}: run scripts/setup test first.", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="bench-console-") as scratch:
        inventory_api.django_configure(None, Path(scratch))
        drop = inventory_api.database_create(on_server=False)
        try:
            return run(args, Path(scratch))
        finally:
            drop()


def run(args, scratch: Path) -> int:
    from django.conf import settings
    from django.test import Client

    from consoles.services import console_ticket_issue
    from inventory.choices import HostStatus
    from inventory.models import Cluster, DataCenter, Host
    from vms.choices import VmStatus
    from vms.models import OperatingSystem, Vm

    user = __import__("django.contrib.auth", fromlist=["get_user_model"]).get_user_model().objects.create_user(
        "bench", password="bench-password-1")
    data_center = DataCenter.objects.create(name="dc")
    cluster = Cluster.objects.create(name="cl", data_center=data_center)
    host = Host.objects.create(name="localhost", cluster=cluster, uri=URI, status=HostStatus.UP)
    os_type = OperatingSystem.objects.create(short_id="linux-generic", name="Linux", family="linux",
                                             minimum_memory_mb=128, recommended_memory_mb=256)
    vms = [Vm.objects.create(name=f"bench-console-{os.getpid()}-{n}", cluster=cluster, data_center=data_center,
                             os_type=os_type, memory_mb=192, memory_guaranteed_mb=192, status=VmStatus.UP,
                             owner=user, host=host) for n in range(2)]
    client = Client()
    client.force_login(user)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"

    print("Console benchmark: two tiny guests (TCG, 192 MiB, VNC on 127.0.0.1) on", URI,
          "; the console proxy (manage.py console_proxy) on a scratch SQLite database;",
          "each session: ticket issued in-process, WebSocket (binary) with the session cookie,",
          "RFB 3.8 handshake (no auth, shared), a full FramebufferUpdateRequest.")
    print(f"Machine: {platform.node()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    domains = [boot(vm, scratch) for vm in vms]
    port = free_port()
    log = (scratch / "proxy.log").open("w")
    proxy = subprocess.Popen([sys.executable, "manage.py", "console_proxy", f"127.0.0.1:{port}"], cwd=REPO,
                             env=dict(os.environ), stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port)
        wait_for_guests(vms, lambda vm: console_ticket_issue(user=user, vm=vm, protocol="vnc"), port, cookie)

        timings = []
        for n in range(args.runs):
            vm = vms[n % 2]
            started = time.perf_counter()
            issued = console_ticket_issue(user=user, vm=vm, protocol="vnc")
            session = Session.open(port, issued.websocket_path, cookie)
            session.first_framebuffer_update()
            timings.append((time.perf_counter() - started) * 1000)
            session.close()
        timings.sort()
        p95 = timings[max(0, int(len(timings) * 0.95) - 1)]
        print(f"\nTicket -> first framebuffer update, {args.runs} sessions one after another:")
        print(f"  median {statistics.median(timings):.1f} ms, p95 {p95:.1f} ms, max {timings[-1]:.1f} ms")

        time.sleep(1.0)  # the timed sessions' processes exit
        before = proxy_memory(proxy.pid)
        held = []
        started = time.perf_counter()
        for n in range(args.sessions):
            issued = console_ticket_issue(user=user, vm=vms[n % 2], protocol="vnc")
            session = Session.open(port, issued.websocket_path, cookie)
            session.first_framebuffer_update()
            held.append(session)
        opening = time.perf_counter() - started
        time.sleep(0.5)
        alive = sum(session.alive() for session in held)
        during = proxy_memory(proxy.pid)
        print(f"\n{args.sessions} sessions held at once through one proxy ({alive} still alive after opening "
              f"all, in {opening:.1f} s):")
        print(f"  proxy processes: {before['processes']} -> {during['processes']}")
        print(f"  proxy memory (PSS): {before['pss_kib'] / 1024:.1f} MiB idle -> {during['pss_kib'] / 1024:.1f} MiB;"
              f" {(during['pss_kib'] - before['pss_kib']) / max(1, len(held)):.0f} KiB per session")
        print(f"  (RSS, counting shared pages in every process: {during['rss_kib'] / 1024:.1f} MiB)")
        for session in held:
            session.close()
        return 0
    finally:
        proxy.terminate()
        proxy.wait(15)
        for name in domains:
            subprocess.run(["virsh", "-c", URI, "destroy", name], capture_output=True)


def boot(vm, scratch: Path) -> str:
    disk = scratch / f"{vm.name}.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", str(GUEST_IMAGE), "-F", "qcow2", str(disk)],
                   check=True)
    xml = scratch / f"{vm.name}.xml"
    xml.write_text(f"""<domain type='qemu'>
  <name>{vm.name}</name><uuid>{vm.uuid}</uuid>
  <memory unit='MiB'>{vm.memory_mb}</memory><vcpu>1</vcpu>
  <sysinfo type='smbios'><system><entry name='serial'>{vm.name}</entry></system></sysinfo>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/><smbios mode='sysinfo'/></os>
  <devices>
    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='{disk}'/>
      <target dev='vda' bus='virtio'/></disk>
    <graphics type='vnc' autoport='yes'><listen type='address' address='127.0.0.1'/></graphics>
    <video><model type='vga'/></video>
  </devices>
</domain>""")
    subprocess.run(["virsh", "-c", URI, "create", str(xml)], check=True, capture_output=True)
    return vm.name


def wait_for_guests(vms, issue, port: int, cookie: str, timeout: float = 90) -> None:
    """Until each guest's screen has been drawn by its kernel (a first update
    arrives whatever the screen shows, so wait for boot to be well under way)."""
    deadline = time.monotonic() + timeout
    for vm in vms:
        while True:
            session = Session.open(port, issue(vm).websocket_path, cookie)
            size = session.first_framebuffer_update()
            session.close()
            if size[0] >= 640 or time.monotonic() > deadline:  # the VGA text console, past the BIOS
                break
            time.sleep(1)
    time.sleep(3)


def proxy_memory(pid: int) -> dict:
    pids = [pid] + [int(child) for child in
                    Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    pss = rss = 0
    for each in pids:
        try:
            for line in Path(f"/proc/{each}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    pss += int(line.split()[1])
                elif line.startswith("Rss:"):
                    rss += int(line.split()[1])
        except FileNotFoundError:
            continue
    return {"processes": len(pids), "pss_kib": pss, "rss_kib": rss}


class Session:
    """One console session as noVNC makes it: a WebSocket client (masked
    frames) carrying RFB."""

    def __init__(self, sock: socket.socket):
        self.sock, self.buffer = sock, b""

    @classmethod
    def open(cls, port: int, path: str, cookie: str) -> Session:
        sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        origin = f"127.0.0.1:{port}"
        request = (f"GET {path} HTTP/1.1\r\nHost: {origin}\r\nOrigin: http://{origin}\r\nCookie: {cookie}\r\n"
                   f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                   f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}\r\n"
                   f"Sec-WebSocket-Protocol: binary\r\n\r\n")
        sock.sendall(request.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(1)
            if not chunk:
                raise ConnectionError("the proxy closed the connection")
            head += chunk
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise ConnectionError(head.split(b"\r\n")[0].decode())
        return cls(sock)

    def _frame(self) -> bytes:
        first, second = self._raw(2)
        length = second & 0x7F
        if length == 126:
            length = struct.unpack("!H", self._raw(2))[0]
        elif length == 127:
            length = struct.unpack("!Q", self._raw(8))[0]
        payload = self._raw(length)
        if first & 0x0F == 0x8:
            raise ConnectionError("closed by the proxy")
        return payload

    def _raw(self, count: int) -> bytes:
        data = b""
        while len(data) < count:
            chunk = self.sock.recv(count - len(data))
            if not chunk:
                raise ConnectionError("closed")
            data += chunk
        return data

    def read(self, count: int) -> bytes:
        while len(self.buffer) < count:
            self.buffer += self._frame()
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def send(self, data: bytes) -> None:
        mask = os.urandom(4)
        masked = bytes(byte ^ mask[index % 4] for index, byte in enumerate(data))
        length = len(data)
        header = struct.pack("!BB", 0x82, 0x80 | length) if length < 126 else \
            struct.pack("!BBH", 0x82, 0x80 | 126, length)
        self.sock.sendall(header + mask + masked)

    def first_framebuffer_update(self) -> tuple[int, int]:
        """RFB 3.8 with no authentication, then one full update; the screen size."""
        version = self.read(12)
        assert version.startswith(b"RFB "), version
        self.send(b"RFB 003.008\n")
        count = self.read(1)[0]
        types = self.read(count)
        assert 1 in types, f"the VNC server wants authentication: {list(types)}"
        self.send(b"\x01")
        assert struct.unpack("!I", self.read(4))[0] == 0, "security handshake failed"
        self.send(b"\x01")  # ClientInit: shared
        width, height = struct.unpack("!HH", self.read(4))
        self.read(16)  # pixel format
        self.read(struct.unpack("!I", self.read(4))[0])  # desktop name
        self.send(struct.pack("!BBHHHH", 3, 0, 0, 0, width, height))
        while True:
            kind = self.read(1)[0]
            if kind == 0:
                return width, height
            raise AssertionError(f"unexpected RFB message {kind}")

    def alive(self) -> bool:
        try:
            self.sock.setblocking(False)
            return self.sock.recv(1, socket.MSG_PEEK) != b""
        except BlockingIOError:
            return True
        except OSError:
            return False
        finally:
            self.sock.setblocking(True)

    def close(self) -> None:
        self.sock.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"the console proxy did not listen on {port}")


if __name__ == "__main__":
    sys.exit(main())
