"""The console page in Debian's Chromium against the booted tiny guest: the
whole chain TCG guest -> QEMU VNC -> console proxy (websockify) -> the
portal's /websockify (daphne) -> noVNC. One guest serves every check (it is
booted once: the checks only read its screen, then type into it last).

Screenshots go to test-artifacts/browser/console-*.png."""

from __future__ import annotations

import io
import os
import time

import pytest
from PIL import Image
from playwright.sync_api import expect

import hypervisor
from core.models import Event
from tests.conftest import ARTIFACTS
from tests.e2e.conftest import SCREENSHOTS, screenshot
from core.updates import publish
from tests.e2e.test_browser import log_in, outside_playwrights_loop
from tests.plugins.real import wait_for_text
from tests.vms.test_lifecycle_real import create_vm, serial_log, world  # noqa: F401 (the fixture)

pytestmark = [pytest.mark.browser, pytest.mark.real, pytest.mark.jobs, pytest.mark.django_db(transaction=True)]


def canvas_facts(page) -> dict:
    """The noVNC canvas's size and how many of its pixels are not black."""
    return page.evaluate("""() => {
        const canvas = document.querySelector('#console-screen canvas');
        const context = canvas.getContext('2d');
        const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
        let lit = 0;
        for (let i = 0; i < data.length; i += 4) if (data[i] + data[i + 1] + data[i + 2] > 60) lit++;
        return {width: canvas.width, height: canvas.height, lit};
    }""")


def test_the_console_page_shows_the_guests_screen_and_types_into_it(page, api, world, console_proxy):  # noqa: F811
    vm = create_vm(api, world, f"console-{os.getpid()}")
    wait_for_text(serial_log(vm), "GUEST READY", timeout=90)
    log_in(page)
    page.goto("/vms/")
    expect(page.locator(f"a[data-console-link][href='/vms/{vm.pk}/console/']")).to_have_count(1)
    screenshot(page, "console-vm-list")
    page.goto(f"/vms/{vm.pk}/")
    screenshot(page, "console-vm-page")
    with page.context.expect_page() as opened:
        page.click("[data-console-link]")  # one click from the VM page, in its own tab
    console = opened.value
    console.on("pageerror", lambda error: pytest.fail(f"JavaScript error on the console page: {error}"))
    expect(console.locator("body[data-console-state=connected]")).to_have_count(1, timeout=20_000)
    expect(console.locator("[data-console-status]")).to_have_text("Connected")

    # The canvas is the guest's screen: libvirt's size, and drawn (the busybox console text).
    expected = Image.open(io.BytesIO(hypervisor.domain_screenshot_png(world["uri"], str(vm.uuid)))).size
    deadline = time.monotonic() + 15
    while (facts := canvas_facts(console))["lit"] < 200 and time.monotonic() < deadline:
        time.sleep(0.3)
    assert (facts["width"], facts["height"]) == expected
    assert facts["lit"] >= 200, facts
    screenshot(console, "console-connected")

    # The toolbar's screenshot: a PNG of the guest's screen, downloaded.
    with console.expect_download() as download:
        console.click("[data-console-action=screenshot]")
    saved = SCREENSHOTS / "console-download.png"
    download.value.save_as(saved)
    assert Image.open(saved).size == expected

    # Paste as typing: the command runs in the guest's shell on its screen (tty1)
    # and writes to the serial port, whose log the host keeps. $((6*7)) needs
    # Shift for $ ( * ) and proves the shell ran it.
    console.click("[data-console-action=paste]")
    console.fill("[data-console-paste-text]", "echo typed-$((6*7)) > /dev/ttyS0\n")
    console.click("[data-console-paste] button[type=submit]")
    expect(console.locator("[data-console-paste][data-typed]")).to_have_count(1)
    wait_for_text(serial_log(vm), "typed-42", timeout=20)
    screenshot(console, "console-typed")

    # The session is recorded, with who and which VM.
    opened_events = Event.objects.filter(code="console.opened", target_id=str(vm.pk))
    assert opened_events.filter(user__username="admin").exists()

    # The VM's live status drives the page: stopped, it waits; running again on
    # another host (as after a migration), it connects again with a new ticket.
    admin_id = opened_events.first().user_id
    outside_playwrights_loop(publish, {"type": "vm", "id": vm.pk, "status": "down", "label": "Down", "host": None},
                             [admin_id])
    expect(console.locator("body[data-console-state=waiting]")).to_have_count(1, timeout=10_000)
    expect(console.locator("[data-console-message]")).to_contain_text("connects by itself when it runs")
    screenshot(console, "console-waiting")
    outside_playwrights_loop(publish, {"type": "vm", "id": vm.pk, "status": "up", "label": "Up",
                                       "host": vm.host_id + 1000}, [admin_id])
    expect(console.locator("body[data-console-state=connected]")).to_have_count(1, timeout=20_000)
    assert opened_events.count() == 2
    console.close()
    deadline = time.monotonic() + 10
    while not Event.objects.filter(code="console.closed", target_id=str(vm.pk)).exists():
        assert time.monotonic() < deadline, "no console.closed event"
        time.sleep(0.2)
    assert (ARTIFACTS / "browser" / "console-connected.png").exists()
