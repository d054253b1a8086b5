"""The multi-host lane's plumbing: test hypervisor hosts in network namespaces.

Each host is a libvirtd of its own, brought up by ``scripts/testhost`` (read its
header for the layout): the tests reach host NAME at ``qemu+tcp://10.231.INDEX.2/system``
and hosts reach each other through the root namespace, so migration works between
them. ``testhost("alpha")`` brings a host up once per session; every host is torn
down at session end, whatever happened. A script that fails FAILS the test with its
output (never a skip).

Guests that move between hosts keep their disks in ``SHARED_DIR``: the same path in
the root namespace and in every host.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.plugins.real import REPO, run_script

__all__ = [
    "SHARED_DIR",
    "NamespacedHost",
    "guest_domain_xml",
    "shared_dir",
    "shared_guest_disk",
    "testhost",
]

SHARED_DIR = REPO / "var" / "testhosts" / "shared"


@dataclass(frozen=True)
class NamespacedHost:
    name: str
    index: int

    @property
    def address(self) -> str:
        return f"10.231.{self.index}.2"

    @property
    def uri(self) -> str:
        """How the portal reaches it: libvirt over TCP (no auth, test only)."""
        return f"qemu+tcp://{self.address}/system"

    @property
    def socket_uri(self) -> str:
        """Its local socket, for tools in the root namespace (no network involved)."""
        return f"qemu:///system?socket={REPO}/var/testhosts/{self.name}/run/libvirt-sock"

    def stop_daemon(self) -> None:
        """Stop its libvirtd only: guests keep running, the host stops answering."""
        run_script("testhost", "stop-daemon", self.name, timeout=60)

    def start_daemon(self) -> None:
        """Start its libvirtd again; returns once it answers."""
        run_script("testhost", "start-daemon", self.name, timeout=60)

    def down(self) -> None:
        """Remove the host now (idempotent; the session teardown does it anyway)."""
        run_script("testhost", "down", self.name, timeout=60)


TesthostFactory = Callable[[str], NamespacedHost]

# Per process, not per fixture instance: should this module be loaded twice (as a
# plugin and through a conftest import), both instances still agree on the indices.
# Another session on the machine may have hosts up too: indices skip theirs.
_hosts: dict[str, NamespacedHost] = {}


def _free_index() -> int:
    """The lowest index that neither a host of this session nor one of another
    session on this machine (its 10.231.INDEX.1 on a pt-* interface) uses."""
    addresses = subprocess.run(["ip", "-o", "-4", "addr", "show"], capture_output=True, text=True,
                               check=True).stdout
    taken = {host.index for host in _hosts.values()}
    taken |= {int(index) for index in re.findall(r"\b10\.231\.(\d+)\.1/30\b", addresses)}
    return next(index for index in range(1, 255) if index not in taken)


@pytest.fixture(scope="session")
def testhost() -> Iterator[TesthostFactory]:
    """``testhost(name)``: the host NAME, up and answering (once per session)."""

    def get(name: str) -> NamespacedHost:
        # Registered before `up`, so that a half-built host is torn down too.
        if name not in _hosts:
            _hosts[name] = NamespacedHost(name, index=_free_index())
        host = _hosts[name]
        # Every call: ~0.1 s when the host answers already, and it restarts a daemon
        # that an earlier test left stopped.
        run_script("testhost", "up", name, str(host.index), timeout=120)
        return host

    yield get
    failures = []
    while _hosts:
        name, _host = _hosts.popitem()
        try:
            run_script("testhost", "down", name, timeout=120)
        except pytest.fail.Exception as exc:  # tear down the others anyway
            failures.append(str(exc))
    if failures:
        pytest.fail("\n".join(failures), pytrace=False)


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A fresh directory in the hosts' shared storage, removed after the test."""
    path = SHARED_DIR / uuid.uuid4().hex[:12]
    path.mkdir(parents=True)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def shared_guest_disk(shared_dir: Path, guest_image: Path) -> Path:
    """A writable overlay of the tiny guest in shared storage (any host can run it)."""
    disk = shared_dir / "disk.qcow2"
    subprocess.run(
        ["qemu-img", "create", "-q", "-f", "qcow2", "-b", str(guest_image), "-F", "qcow2", str(disk)],
        check=True,
    )
    return disk


def guest_domain_xml(name: str, hostname: str, disk: Path, serial_log: Path, memory_mib: int = 256) -> str:
    """A TCG domain for the tiny guest: it names itself ``hostname`` (SMBIOS serial)
    and writes its serial console (GUEST READY, heartbeats) to ``serial_log``."""
    dom = ET.Element("domain", type="qemu")  # TCG: nested KVM hangs on these machines
    ET.SubElement(dom, "name").text = name
    ET.SubElement(dom, "memory", unit="MiB").text = str(memory_mib)
    ET.SubElement(dom, "vcpu").text = "1"
    system = ET.SubElement(ET.SubElement(dom, "sysinfo", type="smbios"), "system")
    ET.SubElement(system, "entry", name="serial").text = hostname
    os_ = ET.SubElement(dom, "os")
    ET.SubElement(os_, "type", arch="x86_64").text = "hvm"
    ET.SubElement(os_, "boot", dev="hd")
    ET.SubElement(os_, "smbios", mode="sysinfo")
    devices = ET.SubElement(dom, "devices")
    disk_el = ET.SubElement(devices, "disk", type="file", device="disk")
    ET.SubElement(disk_el, "driver", name="qemu", type="qcow2")
    ET.SubElement(disk_el, "source", file=str(disk))
    ET.SubElement(disk_el, "target", dev="vda", bus="virtio")
    serial = ET.SubElement(devices, "serial", type="file")
    # append: a migrated guest's new QEMU opens the same log and must not empty it.
    ET.SubElement(serial, "source", path=str(serial_log), append="on")
    return ET.tostring(dom, encoding="unicode")
