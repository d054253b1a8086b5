"""Boot smoke tests: the tiny guest boots under the real libvirtd, names itself,
shows its screen, and ignores the ACPI power button unless asked not to.

Uses `virsh` only: the `hypervisor` package owns libvirt access from Python.
"""

from __future__ import annotations

import subprocess
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.plugins.real import wait_for_text

pytest_plugins = ["tests.plugins.real"]

pytestmark = pytest.mark.real

BOOT_TIMEOUT = 90


def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, attrs)
    el.text = text
    return el


def smoke_domain_xml(
    name: str, hostname: str, disk: Path, serial_log: Path, family: str | None = None
) -> str:
    dom = ET.Element("domain", type="qemu")  # TCG: nested KVM hangs on these hosts
    sub(dom, "name", name)
    sub(dom, "memory", "256", unit="MiB")
    sub(dom, "vcpu", "1")
    # The guest reads its hostname from the SMBIOS system serial, and opts in to
    # powering off on the ACPI button when the system family says "acpi-poweroff".
    system = sub(sub(dom, "sysinfo", type="smbios"), "system")
    sub(system, "entry", hostname, name="serial")
    if family:
        sub(system, "entry", family, name="family")
    os_ = sub(dom, "os")
    sub(os_, "type", "hvm", arch="x86_64")
    sub(os_, "boot", dev="hd")
    sub(os_, "smbios", mode="sysinfo")
    sub(sub(dom, "features"), "acpi")
    sub(dom, "on_poweroff", "destroy")
    devices = sub(dom, "devices")
    disk_el = sub(devices, "disk", type="file", device="disk")
    sub(disk_el, "driver", name="qemu", type="qcow2")
    sub(disk_el, "source", file=str(disk))
    sub(disk_el, "target", dev="vda", bus="virtio")
    serial = sub(devices, "serial", type="file")
    sub(serial, "source", path=str(serial_log))
    sub(devices, "graphics", type="vnc", listen="127.0.0.1", autoport="yes")
    sub(sub(devices, "video"), "model", type="vga")
    return ET.tostring(dom, encoding="unicode")


def virsh(uri: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(["virsh", "-c", uri, *args], capture_output=True, text=True, timeout=60)
    if check and proc.returncode != 0:
        raise AssertionError(f"virsh {' '.join(args)} failed: {proc.stderr.strip()}")
    return proc


def domain_state(uri: str, name: str) -> str:
    return virsh(uri, "domstate", name).stdout.strip()


DefineDomain = Callable[..., tuple[str, Path]]


@pytest.fixture
def define_domain(libvirtd: str, guest_image: Path, tmp_path: Path) -> Iterator[DefineDomain]:
    """Define (not start) guests on their own overlays; all destroyed and undefined
    at teardown whatever happened. Returns (domain name, serial log path)."""
    names: list[str] = []

    def define(hostname: str, family: str | None = None) -> tuple[str, Path]:
        name = f"real-host-{hostname}-{uuid.uuid4().hex[:8]}"  # sessions may run side by side
        workdir = tmp_path / name
        workdir.mkdir()
        disk = workdir / "disk.qcow2"
        subprocess.run(
            ["qemu-img", "create", "-q", "-f", "qcow2", "-b", str(guest_image), "-F", "qcow2", str(disk)],
            check=True,
        )
        serial_log = workdir / "serial.log"
        xml_file = workdir / "domain.xml"
        xml_file.write_text(smoke_domain_xml(name, hostname, disk, serial_log, family))
        virsh(libvirtd, "define", str(xml_file))
        names.append(name)
        return name, serial_log

    yield define
    for name in names:
        virsh(libvirtd, "destroy", name, check=False)
        virsh(libvirtd, "undefine", name, check=False)


def test_it_boots_the_guest_image_and_shows_its_screen(
    libvirtd: str, define_domain: DefineDomain, tmp_path: Path, record_property
) -> None:
    name, serial_log = define_domain("boot-smoke")

    started = time.monotonic()
    virsh(libvirtd, "start", name)
    log = wait_for_text(serial_log, "GUEST READY boot-smoke", BOOT_TIMEOUT)
    boot_seconds = time.monotonic() - started
    record_property("boot_seconds", round(boot_seconds, 2))
    print(f"guest booted to GUEST READY in {boot_seconds:.2f}s")
    assert "GUEST READY boot-smoke" in log

    # The heartbeat is what later tests (migration) watch for a live guest.
    wait_for_text(serial_log, "GUEST HEARTBEAT 1", 20)

    shot = tmp_path / "screen"
    virsh(libvirtd, "screenshot", name, str(shot))
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" or data[:2] == b"P6", data[:16]
    assert len(data) > 1024, f"screenshot is only {len(data)} bytes"


def test_it_ignores_the_acpi_power_button_unless_asked(
    libvirtd: str, define_domain: DefineDomain
) -> None:
    stubborn, stubborn_log = define_domain("stubborn")
    polite, polite_log = define_domain("polite", family="acpi-poweroff")
    virsh(libvirtd, "start", stubborn)
    virsh(libvirtd, "start", polite)
    wait_for_text(stubborn_log, "GUEST READY stubborn", BOOT_TIMEOUT)
    wait_for_text(polite_log, "GUEST READY polite", BOOT_TIMEOUT)

    virsh(libvirtd, "shutdown", stubborn)  # libvirt's default: the ACPI power button
    virsh(libvirtd, "shutdown", polite)

    deadline = time.monotonic() + 30
    while domain_state(libvirtd, polite) != "shut off":
        assert time.monotonic() < deadline, "the opted-in guest did not power off"
        time.sleep(0.2)
    assert "GUEST ACPI POWEROFF" in polite_log.read_text(errors="replace")

    # By then the default guest had as long to react, and did not.
    assert domain_state(libvirtd, stubborn) == "running"
    beats = stubborn_log.read_text(errors="replace").count("GUEST HEARTBEAT")
    wait_for_text(stubborn_log, f"GUEST HEARTBEAT {beats + 1}\n", 10)
