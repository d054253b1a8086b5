"""The VM page's disks card in Debian's Chromium.

On libvirt's test:/// host: add a disk (a bad size first), detach one and see
it float, attach it back. (The test driver keeps one state per connection, so
the portal's server thread sees no volumes there: sizes show as unknown; the
real libvirtd's are in test_disks_real_browser.py.) Screenshots:
test-artifacts/browser/vm-disks-*.png."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from core.models import Job
from tests.e2e.test_browser import log_in, outside_playwrights_loop
from tests.e2e.test_vm_wizard import shot
from tests.support.jobs import run_job
from tests.vms.test_disks import down
from tests.vms.test_disks_more import data2  # noqa: F401 (a second data domain)
from tests.vms.test_lifecycle import world  # noqa: F401 (the test:/// world)
from tests.vms.test_snapshots import vm  # noqa: F401 (web1)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_disks_card_adds_detaches_and_attaches(page, admin, vm, data2):  # noqa: F811
    vm = down(vm)
    log_in(page)
    page.goto(f"/vms/{vm.pk}/")
    card = page.locator("#disks")
    expect(card).to_contain_text("Virtual size")
    expect(card.locator('[data-disk-action="move"]')).to_be_visible()
    shot(page, "disks-down")

    card.locator("summary", has_text="Add a disk").click()
    page.fill("#id_add-size_gb", "0")
    card.get_by_role("button", name="Add disk").click()
    expect(page.locator(".pf-v6-c-alert-group")).to_contain_text("greater than or equal to 1")
    page.locator("#disks summary", has_text="Add a disk").click()
    page.fill("#id_add-size_gb", "3")
    page.locator("#disks").get_by_role("button", name="Add disk").click()
    expect(page.locator("body")).to_contain_text("Add disk 2 to VM web1")
    outside_playwrights_loop(run_job, Job.objects.get(kind="vm.disk_add"))
    page.goto(f"/vms/{vm.pk}/")
    expect(page.locator('#disks tr[data-disk]')).to_have_count(2)

    page.locator('#disks tr[data-disk]').nth(1).locator('[data-disk-action="detach"]').click()
    expect(page.locator("body")).to_contain_text("floats as 'web1 disk 2'")
    expect(page.locator("[data-disk-attach]")).to_contain_text("web1 disk 2")
    shot(page, "disks-floating")
    page.goto(f"/storage/{vm.disks.get().storage_domain_id}/")
    expect(page.locator("#floating-disks")).to_contain_text("web1 disk 2")
    shot(page, "disks-storage-domain")
    page.goto(f"/vms/{vm.pk}/")
    page.locator("[data-disk-attach]").get_by_role("button", name="Attach").click()
    expect(page.locator("body")).to_contain_text("was attached to VM web1 as disk 2")
    expect(page.locator('#disks tr[data-disk]')).to_have_count(2)
    shot(page, "disks-attached")

