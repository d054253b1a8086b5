"""A template's page in Chromium before and after sealing: the operations
sealing will run, then virt-sysprep's report (lines as the real lane's
virt-sysprep prints them), and an unsealed template's reason. Screenshots in
artifacts/browser/template-seal-*.png."""

import pytest
from playwright.sync_api import expect

from hypervisor.sealing import SEAL_OPERATIONS
from tests.e2e.conftest import screenshot
from tests.e2e.test_browser import log_in
from tests.vms.factories import vm_world
from vms.choices import SealStatus, TemplateStatus
from vms.models import Template, TemplateDisk, Vm

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REPORT = ["Examining the guest ...", *[f'Performing "{op.name}" ...' for op in SEAL_OPERATIONS[1:]],
          'Performing "customize" ...', "Setting the machine ID in /etc/machine-id",
          "Setting the hostname: localhost", "Truncating: /etc/machine-id"]


def test_the_template_page_before_and_after_sealing(page, admin):
    world = vm_world(hosts=1)
    template = Template.objects.create(name="golden", data_center=world["data_center"], os_type=world["os"],
                                       memory_mb=1024, seal_status=SealStatus.PENDING)
    TemplateDisk.objects.create(template=template, index=0, size_gb=10, storage_domain=world["domain"],
                                volume_name="template-golden-disk0.qcow2", bootable=True)
    log_in(page)
    page.goto(f"/templates/{template.pk}/")
    expect(page.locator("[data-seal-status=pending]")).to_contain_text("virt-sysprep removes the machine identity")
    expect(page.locator("[data-seal-operations]")).to_contain_text("leave /etc/machine-id empty")
    page.get_by_text("more clean-ups").click()
    expect(page.get_by_text("Remove temporary files")).to_be_visible()
    screenshot(page, "template-seal-before")

    Template.objects.filter(pk=template.pk).update(
        status=TemplateStatus.OK, seal_status=SealStatus.SEALED, sealed=True, seal_report=REPORT,
        seal_message=f"virt-sysprep performed {len(SEAL_OPERATIONS)} operations in 19 s.")
    page.reload()
    expect(page.locator("[data-seal-report]")).to_contain_text("Truncating: /etc/machine-id")
    page.locator("[data-seal-report]").scroll_into_view_if_needed()
    expect(page.locator("[data-seal-status=sealed]")).to_contain_text("performed 36 operations")
    screenshot(page, "template-seal-after")

    Template.objects.filter(pk=template.pk).update(
        seal_status=SealStatus.UNSEALED, sealed=False, seal_report=[],
        seal_message="Host localhost: virt-sysprep found no operating system it can inspect on the disk (it "
                     "knows Linux distributions and Windows), so it was left as it is: unsealed.")
    page.reload()
    expect(page.locator("[data-seal-status=unsealed]")).to_contain_text("found no operating system")
    screenshot(page, "template-seal-unsealed")


def test_the_make_template_form_offers_the_seal_choice_and_lists_the_operations(page, admin):
    world = vm_world(hosts=1)
    vm = Vm.objects.create(name="web1", data_center=world["data_center"], cluster=world["cluster"],
                           os_type=world["os"], memory_mb=1024, status="down")
    log_in(page)
    page.goto(f"/vms/{vm.pk}/make-template/")
    expect(page.locator("select[name=seal]")).to_contain_text("As the OS type says (seal for Debian 11)")
    expect(page.locator("[data-seal-operations]")).to_contain_text("Remove the SSH host keys")
    page.locator("[data-seal-operations]").scroll_into_view_if_needed()  # the page body scrolls, not the window
    screenshot(page, "template-seal-make-form")
