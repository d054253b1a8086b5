"""The Edit page of a running VM in Debian's Chromium: a bad figure is refused
under its field with nothing lost, and changes that need a restart show on
the VM page as pending (now, next, why). Screenshots go to
test-artifacts/browser/vm-edit-*.png."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e import test_vm_wizard
from tests.e2e.test_browser import log_in
from tests.e2e.test_vm_wizard import shot
from vms.models import Vm

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
inventory = test_vm_wizard.inventory  # two simulated hosts (32 GiB and 16 GiB) and VMs in each state


def test_a_running_vms_restart_changes_show_as_pending(page, admin, inventory):
    vm = inventory["vms"][0]  # web-1, up on node1: 4096 MiB, 2 x 2 vCPUs
    Vm.objects.filter(pk=vm.pk).update(max_memory_mb=16384, max_vcpus=16)
    log_in(page)
    page.goto(f"/vms/{vm.pk}/edit/")
    expect(page.get_by_text("The VM is running.")).to_be_visible()
    page.fill("#id_memory_mb", "65536")  # more than the largest host
    page.fill("#id_boot_order", "network, floppy")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("more than the largest host")).to_be_visible()
    expect(page.get_by_text("floppy: not a boot device")).to_be_visible()
    assert page.input_value("#id_memory_mb") == "65536"  # what was typed stays
    shot(page, "edit-refused")
    assert Vm.objects.get(pk=vm.pk).next_run is None

    page.fill("#id_memory_mb", "20480")  # beyond its ceiling of 16 GiB
    page.fill("#id_boot_order", "network,hd")
    page.check("input[name=console][value=spice]")
    page.select_option("#id_nics-1-network", label="vmnet")  # the spare row: a second NIC
    page.fill("#id_nics-1-mac", "56:6f:00:01:0a:0b")
    shot(page, "edit-filled")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("4 changes wait for its next start")).to_be_visible()
    pending = page.locator("#vm-next-run")
    expect(pending.get_by_role("cell", name="20480", exact=True)).to_be_visible()
    expect(pending.locator("[data-next-run=boot_order]")).to_contain_text("network,hd")
    expect(pending).to_contain_text("more than the 16384 MiB the VM was started with room for")
    expect(pending.locator("[data-next-run=nics]")).to_contain_text("56:6f:00:01:0a:0b")
    shot(page, "edit-pending")
    fresh = Vm.objects.get(pk=vm.pk)
    assert (fresh.memory_mb, fresh.console, fresh.nics.count()) == (4096, "vnc", 1)
