"""Domain lifecycle on the real libvirtd with QEMU (TCG), with the tiny guest.

The guest ignores the ACPI power button unless its SMBIOS system family
contains "acpi-poweroff"; DomainSpec cannot say that yet, so ``guest(...,
acpi_poweroff=True)`` adds the entry to build_domain_xml's output with lxml.
It prints "GUEST READY <serial>" once booted and "GUEST HEARTBEAT <n>" every
2 s on its serial console: the heartbeat is how these tests see its vCPUs run.
"""

from __future__ import annotations

import io
import re
import time
import uuid as uuidlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from lxml import etree
from PIL import Image

from hypervisor import (
    Conflict,
    DiskSpec,
    DomainNotFound,
    DomainSpec,
    GraphicsSpec,
    SerialSpec,
    build_domain_xml,
    define_domain,
    destroy_domain,
    domain_state,
    domain_xml,
    get_connection,
    list_domains,
    read_host_info,
    start_domain,
    undefine_domain,
)
from hypervisor.domains import (
    domain_state_reason,
    domain_xml_inactive,
    reboot_domain,
    resume_domain,
    run_domain_once,
    shutdown_domain,
    suspend_domain,
)
from hypervisor.screenshot import domain_screenshot_png
from tests.plugins.real import wait_for_text

pytestmark = pytest.mark.real

PREFIX = "pt-test-dom-"  # every domain these tests make; leftovers are removed
BOOT_TIMEOUT_S = 90
POWEROFF_TIMEOUT_S = 60
HEARTBEAT = re.compile(r"^GUEST HEARTBEAT (\d+)$", re.MULTILINE)


@dataclass(frozen=True)
class Guest:
    uuid: str
    spec: DomainSpec
    serial_log: Path

    def log(self) -> str:
        try:
            return self.serial_log.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def wait_ready(self, serial: str | None = None) -> str:
        return wait_for_text(self.serial_log, f"GUEST READY {serial or self.spec.smbios_serial}", BOOT_TIMEOUT_S)

    def heartbeats(self) -> list[int]:
        return [int(n) for n in HEARTBEAT.findall(self.log())]


def remove_domain(uri: str, uuid: str) -> None:
    for step in (destroy_domain, undefine_domain):
        try:
            step(uri, uuid)
        except (Conflict, DomainNotFound):
            pass  # already off / already gone


def wait_until(what: str, check: Callable[[], bool], timeout: float, guest: Guest | None = None) -> None:
    """Poll ``check``; on timeout fail with the guest's serial log tail (why it did not happen)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() >= deadline:
            tail = "\n".join(guest.log().splitlines()[-30:]) if guest else ""
            raise AssertionError(f"{what} did not happen within {timeout}s; serial log tail:\n{tail}")
        time.sleep(0.2)


def press_power_button(request: Callable[[], None], vm: Guest, attempts: int = 3) -> None:
    """Make the ACPI request until the guest says it saw it.

    The guest opens its power-button reader in the background and prints READY
    after at most 5 s of waiting for it; on a loaded host the reader can still
    be starting then, and the kernel drops a press nobody reads. A caller does
    the same: ask again, then pull the plug.
    """
    for _ in range(attempts):
        request()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if "GUEST ACPI POWEROFF" in vm.log():
                return
            time.sleep(0.2)
    tail = "\n".join(vm.log().splitlines()[-30:])
    raise AssertionError(f"the guest never saw the ACPI request ({attempts} tries); serial log tail:\n{tail}")


@pytest.fixture
def guest(libvirtd: str, guest_disk: Path, tmp_path: Path) -> Iterator[Callable[..., Guest]]:
    """Define the tiny guest (one per test: they share the test's disk); every
    domain made is destroyed and undefined afterwards, pass or fail."""
    for leftover in list_domains(libvirtd):
        if leftover.name.startswith(PREFIX):
            remove_domain(libvirtd, leftover.uuid)
    made: list[str] = []
    info = read_host_info(libvirtd)

    def define(purpose: str, *, acpi_poweroff: bool = False) -> Guest:
        serial_log = tmp_path / f"{purpose}.log"
        spec = DomainSpec(
            name=f"{PREFIX}{purpose}-{uuidlib.uuid4().hex[:8]}",
            memory_mb=256,
            domain_type=info.domain_type,
            arch=info.cpu_arch,
            disks=(DiskSpec(str(guest_disk)),),
            graphics=(GraphicsSpec(type="vnc", listen="127.0.0.1"),),
            serials=(SerialSpec(type="file", path=str(serial_log)),),
            smbios_serial=f"dom-{purpose}",
        )
        if acpi_poweroff:
            root = etree.fromstring(build_domain_xml(spec).encode())
            etree.SubElement(root.find("sysinfo/system"), "entry", name="family").text = "acpi-poweroff"
            uuid = get_connection(libvirtd).defineXML(etree.tostring(root, encoding="unicode")).UUIDString()
        else:
            uuid = define_domain(libvirtd, spec)
        made.append(uuid)
        return Guest(uuid=uuid, spec=replace(spec, uuid=uuid), serial_log=serial_log)

    yield define
    for uuid in made:
        remove_domain(libvirtd, uuid)


def test_it_starts_paused_then_resumes_and_pauses_again(libvirtd, guest):
    vm = guest("pause")

    start_domain(libvirtd, vm.uuid, paused=True)
    assert domain_state(libvirtd, vm.uuid) == "paused"
    resume_domain(libvirtd, vm.uuid)
    assert domain_state_reason(libvirtd, vm.uuid) == ("running", "unpaused")
    vm.wait_ready()
    wait_until("a heartbeat", lambda: vm.heartbeats(), timeout=10, guest=vm)

    suspend_domain(libvirtd, vm.uuid)
    assert domain_state_reason(libvirtd, vm.uuid) == ("paused", "user")
    beats = vm.heartbeats()
    time.sleep(5)  # the guest beats every 2 s: two beats missed if it ran
    assert vm.heartbeats() == beats
    with pytest.raises(Conflict) as caught:
        suspend_domain(libvirtd, vm.uuid)  # QEMU itself would accept this silently
    assert "it is paused" in caught.value.message

    resume_domain(libvirtd, vm.uuid)
    assert domain_state(libvirtd, vm.uuid) == "running"
    wait_until("a heartbeat after resume", lambda: len(vm.heartbeats()) > len(beats), timeout=10, guest=vm)
    with pytest.raises(Conflict):
        resume_domain(libvirtd, vm.uuid)


def test_a_guest_that_ignores_acpi_keeps_running_through_shutdown_and_reboot(libvirtd, guest):
    vm = guest("ignore")
    start_domain(libvirtd, vm.uuid)
    vm.wait_ready()

    started = time.monotonic()
    shutdown_domain(libvirtd, vm.uuid)
    reboot_domain(libvirtd, vm.uuid)
    assert time.monotonic() - started < 1.0  # requests: neither waits for the guest
    beats = len(vm.heartbeats())
    wait_until("two more heartbeats", lambda: len(vm.heartbeats()) >= beats + 2, timeout=15, guest=vm)

    assert domain_state(libvirtd, vm.uuid) == "running"
    assert vm.log().count("GUEST READY") == 1  # not rebooted either
    assert "GUEST ACPI POWEROFF" not in vm.log()


def test_a_cooperating_guest_powers_off_on_shutdown(libvirtd, guest):
    vm = guest("acpi", acpi_poweroff=True)
    start_domain(libvirtd, vm.uuid)
    vm.wait_ready()

    press_power_button(lambda: shutdown_domain(libvirtd, vm.uuid), vm)

    wait_until("shutoff", lambda: domain_state(libvirtd, vm.uuid) == "shutoff", POWEROFF_TIMEOUT_S, vm)
    assert domain_state_reason(libvirtd, vm.uuid) == ("shutoff", "shutdown")  # not "destroyed"


def test_a_cooperating_guest_restarts_on_reboot(libvirtd, guest):
    vm = guest("reboot", acpi_poweroff=True)
    start_domain(libvirtd, vm.uuid)
    vm.wait_ready()

    press_power_button(lambda: reboot_domain(libvirtd, vm.uuid), vm)

    # QEMU turns the guest's poweroff into a reset: same process, same serial log.
    wait_until("a second boot", lambda: vm.log().count("GUEST READY") == 2, BOOT_TIMEOUT_S, vm)
    assert domain_state(libvirtd, vm.uuid) == "running"


def test_run_once_boots_another_definition_and_leaves_the_persistent_one_alone(libvirtd, guest):
    vm = guest("once")
    before = domain_xml_inactive(libvirtd, vm.uuid)

    run_domain_once(libvirtd, replace(vm.spec, smbios_serial="dom-run-once", memory_mb=192))

    vm.wait_ready("dom-run-once")  # the guest saw the run-once SMBIOS serial
    live = domain_xml(libvirtd, vm.uuid)
    assert "dom-run-once" in live and "<memory unit='KiB'>196608</memory>" in live
    assert domain_xml_inactive(libvirtd, vm.uuid) == before
    destroy_domain(libvirtd, vm.uuid)

    assert domain_xml_inactive(libvirtd, vm.uuid) == before  # byte for byte
    assert domain_xml(libvirtd, vm.uuid) == before
    assert [(d.persistent, d.state) for d in list_domains(libvirtd) if d.uuid == vm.uuid] == [(True, "shutoff")]
    start_domain(libvirtd, vm.uuid, paused=True)  # the next start is the defined one again
    assert "dom-once</entry>" in domain_xml(libvirtd, vm.uuid)
    assert "dom-run-once" not in domain_xml(libvirtd, vm.uuid)


def test_run_once_refuses_a_running_domain(libvirtd, guest):
    vm = guest("once-busy")
    start_domain(libvirtd, vm.uuid, paused=True)

    with pytest.raises(Conflict) as caught:
        run_domain_once(libvirtd, replace(vm.spec, memory_mb=192))
    assert "already running" in caught.value.message and "(it is paused)" in caught.value.message


def test_it_takes_a_png_screenshot_of_the_guest_console(libvirtd, guest):
    vm = guest("screen")
    start_domain(libvirtd, vm.uuid)
    vm.wait_ready()

    png = domain_screenshot_png(libvirtd, vm.uuid)
    thumbnail = domain_screenshot_png(libvirtd, vm.uuid, max_width=160)

    image = Image.open(io.BytesIO(png))
    image.load()  # decodes the whole image: a truncated PNG fails here
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and image.format == "PNG"
    assert image.width >= 640 and image.height >= 350  # VGA text mode is 720x400
    assert len(image.convert("L").getcolors(maxcolors=256 * 256) or ()) > 1  # text on it, not a blank screen
    small = Image.open(io.BytesIO(thumbnail))
    assert small.format == "PNG" and small.width == 160
    assert abs(small.height - image.height * 160 / image.width) <= 1

    suspend_domain(libvirtd, vm.uuid)
    assert Image.open(io.BytesIO(domain_screenshot_png(libvirtd, vm.uuid))).size == image.size  # last frame
    destroy_domain(libvirtd, vm.uuid)
    with pytest.raises(Conflict):
        domain_screenshot_png(libvirtd, vm.uuid)
