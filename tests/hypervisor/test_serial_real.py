"""A running domain's serial console through libvirt's stream, on real QEMU:
the tiny guest's shell answers a command, a second session takes the console
over from the first, and a stopped domain ends the session."""

from __future__ import annotations

import os
import threading
import time
import uuid as uuidlib
from pathlib import Path

import pytest

from hypervisor import (
    Conflict,
    DiskSpec,
    DomainSpec,
    SerialSpec,
    define_domain,
    destroy_domain,
    read_host_info,
    start_domain,
    undefine_domain,
)
from hypervisor.serial import open_serial_console
from tests.plugins.real import wait_for_text

pytestmark = pytest.mark.real


class Reader:
    """Everything a console printed, collected by a thread as a browser session would."""

    def __init__(self, console):
        self.console, self.chunks, self.ended = console, [], threading.Event()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while data := self.console.read():
            self.chunks.append(data)
        self.ended.set()

    def text(self) -> str:
        return b"".join(self.chunks).decode(errors="replace")

    def wait_for(self, text: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.text():
            assert time.monotonic() < deadline, f"{text!r} not seen; the console printed:\n{self.text()[-800:]}"
            time.sleep(0.1)


@pytest.fixture
def pty_guest(libvirtd: str, guest_disk: Path, tmp_path: Path):
    info = read_host_info(libvirtd)
    log = tmp_path / "serial.log"
    spec = DomainSpec(name=f"pt-serial-{os.getpid()}-{uuidlib.uuid4().hex[:6]}", memory_mb=256,
                      domain_type=info.domain_type, arch=info.cpu_arch, disks=(DiskSpec(str(guest_disk)),),
                      serials=(SerialSpec(type="pty", log_path=str(log)),), video_model=None,
                      smbios_serial="serial-guest")
    uuid = define_domain(libvirtd, spec)
    yield uuid, log
    for step in (destroy_domain, undefine_domain):
        try:
            step(libvirtd, uuid)
        except Exception:
            pass


def test_the_guests_shell_answers_through_the_serial_console(libvirtd, pty_guest):
    uuid, log = pty_guest
    with pytest.raises(Conflict, match="shut off"):
        open_serial_console(libvirtd, uuid)
    start_domain(libvirtd, uuid)
    wait_for_text(log, "GUEST READY serial-guest", timeout=90)

    first = Reader(open_serial_console(libvirtd, uuid))
    first.console.write(b"echo serial-$((6*7))\n")
    first.wait_for("serial-42")

    second = Reader(open_serial_console(libvirtd, uuid))  # takes the console over
    assert first.ended.wait(10)
    second.console.write(b"echo second-$((6*7))\n")
    second.wait_for("second-42")

    destroy_domain(libvirtd, uuid)
    assert second.ended.wait(10)
