"""The wizard's First boot section in Chromium: filled in, refused with the
reasons in the section and every answer kept; a VM from a template given a
hostname, whose page then says what its first boot gives. Screenshots:
test-artifacts/browser/vm-wizard-5-first-boot*.png, vm-template-*first-boot.png."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.test_browser import log_in
from tests.e2e.test_vm_from_template_browser import templates  # noqa: F401 (fixture)
from tests.e2e.test_vm_wizard import inventory, next_step, shot  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_first_boot_section_is_filled_and_refused_with_reasons(page, admin, inventory):
    log_in(page)
    page.goto("/vms/new/")
    page.fill("#id_basics-name", "web-7")
    for number in (2, 3, 4, 5):
        next_step(page, number)
    section = page.locator('[data-section="first-boot"]')
    expect(section.get_by_role("heading", name="First boot")).to_be_visible()
    section.get_by_text("Personalise the first boot").click()
    page.fill("#id_init-hostname", "web_7")
    page.fill("#id_init-user_name", "alice")
    page.fill("#id_init-password", "s3cret-pass")
    page.fill("#id_init-timezone", "Mars/Olympus")
    page.fill("#id_init-ssh_authorized_keys", "-----BEGIN OPENSSH PRIVATE KEY----- abc")
    shot(page, "wizard-5-first-boot")
    page.locator(".pf-v6-c-wizard__footer").get_by_role("button", name="Create VM").click()
    expect(section).to_contain_text("is not a valid hostname (RFC 1123)", timeout=10000)
    section = page.locator('[data-section="first-boot"]')
    expect(section).to_contain_text("Time zone 'Mars/Olympus' is unknown")
    expect(section).to_contain_text("this is a private key")
    expect(section).to_contain_text("give the VM a disk from an image or a template")
    expect(page.locator("#id_init-hostname")).to_have_value("web_7")
    expect(page.locator("#id_init-password")).to_have_value("s3cret-pass")
    shot(page, "wizard-5-first-boot-refused")


def test_a_vm_from_a_template_with_a_hostname_through_the_wizard(page, admin, inventory, templates):  # noqa: F811
    log_in(page)
    page.goto("/vms/new/")
    page.fill("#id_basics-name", "desk-7")
    page.locator("#id_basics-template").select_option(label="golden: the latest version")
    for number in (2, 3, 4, 5):
        next_step(page, number)
    page.get_by_text("Start the VM once it is created").click()
    page.locator('[data-section="first-boot"]').get_by_text("Personalise the first boot").click()
    page.fill("#id_init-hostname", "web-7")
    page.fill("#id_init-user_name", "alice")
    page.fill("#id_init-password", "s3cret-pass")
    page.fill("#id_init-timezone", "Europe/Paris")
    shot(page, "template-wizard-5-first-boot")
    page.locator(".pf-v6-c-wizard__footer").get_by_role("button", name="Create VM").click()
    expect(page.get_by_role("heading", name="desk-7")).to_be_visible(timeout=15000)
    overview = page.locator(".vm-overview")
    expect(overview).to_contain_text("hostname web-7, user alice, Europe/Paris")
    expect(overview).to_contain_text("a config drive at the first start")
    assert "s3cret-pass" not in page.content()
    shot(page, "template-vm-detail-first-boot")
