"""Issue 9's walk through the pages, on the real libvirtd with the real worker:
make a template of the tiny guest's VM on its page, then a thin VM from it in
the wizard with hostname web-7, which the guest prints at boot from its config
drive. Screenshots: test-artifacts/browser/walk-*.png."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from core.models import Job, JobStatus
from tests.e2e.test_browser import log_in
from tests.e2e.test_vm_wizard import next_step, shot
from tests.jobs.test_worker import wait_for_status
from tests.plugins.real import wait_for_text
from tests.vms.test_lifecycle_real import create_vm, world  # noqa: F401 (the world fixture)
from vms.models import Template, Vm
from vms.policy import serial_log_path

pytestmark = [pytest.mark.browser, pytest.mark.real, pytest.mark.jobs, pytest.mark.django_db(transaction=True),
              pytest.mark.timeout(400)]


def test_a_template_made_on_its_page_then_a_thin_vm_named_web_7_through_the_wizard(page, api, world):  # noqa: F811
    pid = os.getpid()
    source = create_vm(api, world, f"walk-src-{pid}", start=False)
    log_in(page)

    page.goto(f"/vms/{source.pk}/")
    page.get_by_role("link", name="Make template…").click()
    page.fill("#id_name", f"walk-{pid}")
    page.select_option("#id_storage_domain", str(world["domain"].pk))
    page.select_option("#id_seal", "false")  # the tiny guest cannot be inspected: spare virt-sysprep's minute
    shot(page, "walk-make-template")
    page.locator("main button[type=submit]").click()
    expect(page.get_by_role("heading", name=f"walk-{pid}")).to_be_visible(timeout=15000)  # the template's page
    job = wait_for_status(Job.objects.get(kind="template.create"), JobStatus.ENDED, timeout=180)
    assert job.status == JobStatus.SUCCEEDED, job.error
    template = Template.objects.get(name=f"walk-{pid}")

    page.goto("/vms/new/")
    page.fill("#id_basics-name", f"web-{pid}")
    page.locator("#id_basics-template").select_option(str(template.pk))
    page.select_option("#id_basics-provisioning", "thin")
    for number in (2, 3, 4, 5):
        next_step(page, number)
    page.get_by_label("Start the VM once it is created").check()
    page.locator('[data-section="first-boot"]').get_by_text("Personalise the first boot").click()
    page.fill("#id_init-hostname", "web-7")
    shot(page, "walk-wizard-first-boot")
    page.locator(".pf-v6-c-wizard__footer").get_by_role("button", name="Create VM").click()
    expect(page.get_by_role("heading", name=f"web-{pid}")).to_be_visible(timeout=15000)

    vm = Vm.objects.get(name=f"web-{pid}")
    created = wait_for_status(Job.objects.get(kind="vm.create", target_id=str(vm.pk)), JobStatus.ENDED, timeout=180)
    assert created.status == JobStatus.SUCCEEDED, created.error
    vm.refresh_from_db()
    assert (vm.template_id, vm.provisioning, vm.status) == (template.pk, "thin", "up"), created.steps
    wait_for_text(Path(serial_log_path(str(vm.uuid))), "hostname: web-7", 120)
    page.goto(f"/vms/{vm.pk}/")
    expect(page.locator(".vm-overview")).to_contain_text(template.name)
    shot(page, "walk-thin-vm")
