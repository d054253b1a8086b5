"""The SPICE and serial consoles in Debian's Chromium against the booted tiny
guest, through the same tickets as VNC: spice-html5 reaches "connected" on a
SPICE VM (TCG guest -> QEMU SPICE -> console proxy -> /websockify); the serial
page (xterm.js -> /ws/serial/ -> libvirt's console stream) shows the guest's
shell and runs a command typed into it.

Screenshots go to test-artifacts/browser/console-spice.png and console-serial.png."""

from __future__ import annotations

import os
import time

import pytest
from playwright.sync_api import expect

from core.models import Event
from tests.e2e.conftest import screenshot
from tests.e2e.test_browser import log_in
from tests.plugins.real import wait_for_text
from tests.vms.test_lifecycle_real import create_vm, serial_log, world  # noqa: F401 (the fixture)

pytestmark = [pytest.mark.browser, pytest.mark.real, pytest.mark.jobs, pytest.mark.django_db(transaction=True)]


def terminal_text(page) -> str:
    """What xterm.js shows, line by line (its buffer, scrollback included)."""
    return page.evaluate("""() => {
        const buffer = window.portalTerminal.buffer.active;
        const lines = [];
        for (let i = 0; i < buffer.length; i++) lines.push(buffer.getLine(i).translateToString(true));
        return lines.join('\\n');
    }""")


def wait_for_terminal(page, text: str, timeout: float = 20) -> str:
    deadline = time.monotonic() + timeout
    while text not in (shown := terminal_text(page)):
        assert time.monotonic() < deadline, f"{text!r} not shown; the terminal shows:\n{shown[-800:]}"
        time.sleep(0.2)
    return shown


def test_a_spice_vm_opens_in_spice_html5(page, api, world, console_proxy):  # noqa: F811
    vm = create_vm(api, world, f"spice-{os.getpid()}", console="spice")
    wait_for_text(serial_log(vm), "GUEST READY", timeout=90)
    log_in(page)
    page.goto(f"/vms/{vm.pk}/")
    # The VM page offers the console, the serial console and remote-viewer's file for SPICE.
    expect(page.locator("[data-client-file=vv]")).to_have_text("SPICE in remote-viewer")
    expect(page.locator("[data-serial-link]")).to_have_count(1)
    screenshot(page, "console-vm-page-links")
    with page.context.expect_page() as opened:
        page.click("[data-console-link]")
    console = opened.value
    console.on("pageerror", lambda error: pytest.fail(f"JavaScript error on the console page: {error}"))
    expect(console.locator("body[data-console-state=connected]")).to_have_count(1, timeout=30_000)
    expect(console.locator("[data-console-status]")).to_have_text("Connected")
    # The display channel draws the guest's screen into a canvas of its own.
    expect(console.locator("#console-screen canvas")).to_have_count(1, timeout=15_000)
    time.sleep(1.5)
    screenshot(console, "console-spice")
    assert Event.objects.filter(code="console.opened", target_id=str(vm.pk)).exists()


def test_the_serial_console_shows_the_guests_shell_and_runs_a_command(page, api, world, console_proxy):  # noqa: F811
    vm = create_vm(api, world, f"serial-{os.getpid()}", optimization="high_performance", console="none")
    wait_for_text(serial_log(vm), "GUEST READY", timeout=90)
    log_in(page)
    page.goto(f"/vms/{vm.pk}/")
    with page.context.expect_page() as opened:
        page.click("[data-serial-link]")  # one click from the VM page, in its own tab
    serial = opened.value
    serial.on("pageerror", lambda error: pytest.fail(f"JavaScript error on the serial page: {error}"))
    expect(serial.locator("body[data-console-state=connected]")).to_have_count(1, timeout=20_000)
    wait_for_terminal(serial, "#")  # the shell's prompt (the page presses Enter on connecting)

    serial.click("#console-screen")
    serial.keyboard.type("echo serial-$((6*7))\n")
    wait_for_terminal(serial, "serial-42")
    screenshot(serial, "console-serial")
    opened_events = Event.objects.filter(code="console.opened", target_id=str(vm.pk))
    assert opened_events.count() == 1 and "Serial console" in opened_events.get().message
