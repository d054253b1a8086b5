"""The browser lane: Debian's Chromium, driven by Playwright, against a real
daphne, a real Celery worker and real Redis."""

import re
import threading
import time

import pytest
from django.db import connections
from django.utils import timezone
from playwright.sync_api import expect

from core.jobs import job_create
from inventory.choices import HostStatus, StorageDomainStatus
from inventory.services import host_set_status
from inventory.services.storage import storage_domain_set_status
from tests.conftest import PASSWORD
from tests.core import job_tasks
from tests.e2e.conftest import screenshot
from tests.inventory.factories import HostFactory, StorageDomainFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, username: str = "admin", password: str = PASSWORD) -> None:
    page.goto("/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def outside_playwrights_loop(work, *args, **kwargs):
    """Run work that publishes to the channel layer (async_to_sync) in a plain
    thread: this one carries Playwright's event loop."""
    result = {}

    def run():
        try:
            result["value"] = work(*args, **kwargs)
        finally:
            connections.close_all()  # this thread's own; else the test database cannot be dropped

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)
    return result["value"]


def wait_until_live(page) -> None:
    expect(page.locator("html[data-live=connected]")).to_have_count(1, timeout=10_000)


def test_it_logs_in_and_shows_the_dashboard(page, admin):
    HostFactory(name="localhost", status=HostStatus.UP, cpu_sockets=1, cpu_cores_per_socket=2,
                cpu_threads_per_core=1, cpu_total=2, memory_mb=4096,
                numa_nodes=[{"index": 0, "cpus": [0, 1], "memory_mb": 4096}],
                facts_updated_at=timezone.now())
    log_in(page)
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Hosts")
    wait_until_live(page)
    screenshot(page, "dashboard")

    page.goto("/hosts/")
    page.get_by_role("link", name="localhost").first.click()
    expect(page.get_by_text("NUMA node 0")).to_be_visible()
    screenshot(page, "host-detail")


def test_it_refuses_a_wrong_password_with_a_message(page, admin):
    log_in(page, password="not-the-password")
    expect(page.get_by_text("correct username and password")).to_be_visible()
    assert "/login/" in page.url
    screenshot(page, "login-refused")


def test_it_moves_a_job_progress_bar_live_until_the_job_ends(page, admin, worker):
    log_in(page)
    wait_until_live(page)
    job = outside_playwrights_loop(
        job_create, title="Copy three things", task="test.three_steps", steps=job_tasks.STEPS,
        # Six pauses of a second: the page must be live before the job ends,
        # even on a loaded machine.
        target=admin, user=admin, task_args=(1.0,),
    )
    page.goto(f"/jobs/{job.pk}/")
    wait_until_live(page)
    bar = page.locator(f'main [data-job-id="{job.pk}"] [data-job-field="progress"] [role=progressbar]').first

    seen: set[int] = set()
    shot_while_running = False
    deadline = time.monotonic() + 30
    while 100 not in seen and time.monotonic() < deadline:
        value = int(bar.get_attribute("aria-valuenow") or 0)
        seen.add(value)
        if 0 < value < 100 and not shot_while_running:
            screenshot(page, "job-running")
            shot_while_running = True
        time.sleep(0.1)
    assert 100 in seen, f"the bar never reached 100 (saw {sorted(seen)})"
    assert any(0 < value < 100 for value in seen), f"the bar jumped without moving (saw {sorted(seen)})"
    expect(page.locator(f'main [data-job-id="{job.pk}"] [data-status="succeeded"]').first).to_be_visible()
    screenshot(page, "job-succeeded")


def test_it_changes_a_host_status_badge_without_a_reload(page, admin):
    host = HostFactory(name="flaky", status=HostStatus.UP)
    log_in(page)
    page.goto(f"/hosts/{host.pk}/")
    wait_until_live(page)
    badge = page.locator(f'[data-live-object="host:{host.pk}"] [data-status]').first
    expect(badge).to_have_text("Up")

    outside_playwrights_loop(host_set_status, host=host, status=HostStatus.NON_RESPONSIVE,
                             reason="Connection refused")

    expect(badge).to_have_text("Non responsive", timeout=10_000)
    expect(badge).to_have_attribute("data-status", "non_responsive")
    expect(badge).to_have_class(re.compile(r"\bpf-m-red\b"))
    expect(page.locator(f'[data-live-object="host:{host.pk}"] [data-live-reason]').first).to_have_text(
        "Connection refused")
    screenshot(page, "host-non-responsive")


def test_it_changes_a_storage_domain_status_label_without_a_reload(page, admin):
    domain = StorageDomainFactory(name="shared-data")
    log_in(page)
    page.goto(f"/storage/{domain.pk}/")
    wait_until_live(page)
    title = page.locator(f'.portal-title-status[data-live-object="storagedomain:{domain.pk}"]')
    labels = page.locator(f'[data-live-object="storagedomain:{domain.pk}"] [data-status]')
    expect(labels).to_have_count(2)  # beside the title and in the details
    expect(labels.first).to_have_text("Unattached")

    outside_playwrights_loop(storage_domain_set_status, domain=domain, status=StorageDomainStatus.ACTIVE,
                             expected=StorageDomainStatus.UNATTACHED, reason="40 GiB free")

    for label in labels.all():
        expect(label).to_have_text("Active", timeout=10_000)
        expect(label).to_have_attribute("data-status", "active")
    expect(title).to_have_attribute("title", "40 GiB free")
