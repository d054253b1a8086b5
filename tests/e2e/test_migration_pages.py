"""The migration and maintenance pages in Chromium: the Migrate dialog shows
every host's verdict, a maintenance plan shows moves and blockers, entering
maintenance shows the host preparing, the balancer's dry run (screenshots)."""

import pytest
from playwright.sync_api import expect

from inventory.choices import SchedulingPolicy
from tests.e2e.conftest import screenshot
from tests.e2e.test_browser import log_in
from tests.vms.factories import vm_world
from tests.vms.test_maintenance import running
from vms.choices import Optimization

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_migrate_dialog_and_the_maintenance_pages(page, admin):
    world = vm_world(hosts=3)
    source = world["hosts"][0]
    vm = running(world, "db1", source, 4096)
    running(world, "web1", source, 1024)
    running(world, "hpc1", source, 1024, optimization=Optimization.HIGH_PERFORMANCE)
    running(world, "busy", world["hosts"][1], 6144)
    log_in(page)

    page.goto(f"/vms/{vm.pk}/")
    page.locator("[data-vm-action=migrate]").click()
    expect(page.locator("[data-host-verdict=host1]")).to_contain_text("the VM runs here now")
    expect(page.locator("[data-host-verdict=host3]")).to_contain_text("Chosen")
    screenshot(page, "migrate-dialog")

    page.goto(f"/hosts/{source.pk}/")
    page.get_by_role("link", name="Maintenance plan").click()
    expect(page.locator("main")).to_contain_text("Some VMs cannot leave this host")
    expect(page.locator("table[aria-label=Moves]")).to_contain_text("db1")
    expect(page.locator("table[aria-label=Blockers]")).to_contain_text("high_performance VMs are not live-migrated")
    screenshot(page, "maintenance-plan")

    page.get_by_role("button", name="Enter maintenance").click()
    expect(page.locator("main")).to_contain_text("The host is preparing for maintenance.")
    expect(page.locator("main")).to_contain_text("Waiting for: hpc1")
    screenshot(page, "maintenance-preparing")
    page.get_by_role("button", name="Cancel maintenance").click()
    expect(page.get_by_role("button", name="Enter maintenance")).to_be_visible()

    cluster = world["cluster"]
    cluster.scheduling_policy = SchedulingPolicy.VM_EVENLY_DISTRIBUTED
    cluster.save()
    page.goto(f"/clusters/{cluster.pk}/")
    page.get_by_role("link", name="Balancer").click()
    expect(page.locator("main")).to_contain_text("Nothing to change")
    screenshot(page, "cluster-balancer")
