"""The wizard's template choice in Debian's Chromium: a template's hardware
fills the later steps, step 4 shows its disks, and the template page lists
the thin VM made from it with Delete refused. Screenshots go to
test-artifacts/browser/vm-template-*.png."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.test_browser import log_in
from tests.e2e.test_vm_wizard import inventory, next_step, shot  # noqa: F401 (the inventory fixture)
from vms.models import Template, TemplateDisk, Vm

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def templates(inventory):  # noqa: F811 (the fixture imported above)
    """golden (version 1, a desktop) and its version 2 "patched", ready, with one 20 GiB disk each."""
    cluster = inventory["cluster"]
    domain = cluster.data_center.storage_domains.get()
    made = []
    for number, base in ((1, None), (2, "base")):
        template = Template.objects.create(
            name="golden" if number == 1 else "golden-2", data_center=cluster.data_center, os_type=inventory["os"],
            memory_mb=3072, memory_guaranteed_mb=1536, cpu_sockets=1, cpu_cores=2, optimization="desktop",
            console="spice", nic_models=["e1000"], status="ok", version_number=number,
            base_template=made[0] if base else None, version_name="patched" if base else "")
        TemplateDisk.objects.create(template=template, index=0, size_gb=20, storage_domain=domain, bootable=True,
                                    volume_name=f"template-{template.pk}-disk0.qcow2", status="ok",
                                    path=f"{domain.path}/template-{template.pk}-disk0.qcow2")
        made.append(template)
    return made


def test_choosing_a_template_in_the_wizard_fills_the_steps(page, admin, inventory, templates):  # noqa: F811
    golden, patched = templates
    log_in(page)
    page.goto("/vms/new/")
    expect(page.locator('#vm-wizard[data-step="1"]')).to_be_visible()
    page.fill("#id_basics-name", "desk-7")
    template = page.locator("#id_basics-template")
    expect(template.locator("option")).to_have_count(4)  # blank, golden latest, each version
    expect(page.locator("#id_basics-os_type")).to_have_value("linux-generic")
    template.select_option(label="golden: the latest version")
    expect(page.locator("#id_basics-os_type")).to_have_value(inventory["os"].short_id)  # the template's OS
    shot(page, "template-wizard-1")
    next_step(page, 2)
    expect(page.locator("#id_sizing-memory_mb")).to_have_value("3072")
    expect(page.locator("#id_sizing-cpu_cores")).to_have_value("2")
    next_step(page, 3)
    expect(page.locator('input[name="profile-optimization"][value="desktop"]')).to_be_checked()
    next_step(page, 4)
    expect(page.locator("[data-template-disks]")).to_contain_text("From template golden-2 (version 2)")
    expect(page.locator("#id_nics-0-model")).to_have_value("e1000")
    shot(page, "template-wizard-4")
    next_step(page, 5)
    expect(page.locator('input[name="finish-console"][value="spice"]')).to_be_checked()
    shot(page, "template-wizard-5")

    thin = inventory["vms"][1]
    Vm.objects.filter(pk=thin.pk).update(template=golden, template_version=1, provisioning="thin")
    thin.disks.update(template_disk=golden.disks.get())
    page.goto(f"/templates/{golden.pk}/")
    expect(page.get_by_role("link", name=thin.name)).to_be_visible()
    expect(page.get_by_text("cannot be deleted now")).to_be_visible()
    expect(page.get_by_role("button", name="Delete template and its disks")).to_be_disabled()
    shot(page, "template-detail-thin-vm")
    page.goto(f"/vms/{thin.pk}/")
    expect(page.locator(".vm-overview")).to_contain_text("version 1")
    shot(page, "template-vm-detail")
