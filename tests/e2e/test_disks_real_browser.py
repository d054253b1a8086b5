"""The VM page's disks card in Debian's Chromium on the real libvirtd: a thin
VM's disk shows its template in the backing chain with real sizes, and Move
copies it to another storage domain, flattened. Screenshots:
test-artifacts/browser/vm-disks-thin-chain.png, vm-disks-moved.png."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect

from core.models import Job, JobStatus
from tests.e2e.test_browser import log_in
from tests.e2e.test_vm_wizard import shot
from tests.jobs.test_worker import wait_for_status
from tests.vms.test_disks_real import data2  # noqa: F401 (a second data domain on the real libvirtd)
from tests.vms.test_lifecycle_real import create_vm, succeeded, world  # noqa: F401
from vms.models import Template, Vm

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.real
@pytest.mark.jobs
@pytest.mark.timeout(400)
def test_a_thin_disk_shows_its_template_and_moves_flattened(page, api, world, data2):  # noqa: F811
    pid = os.getpid()
    source = create_vm(api, world, f"chainsrc-{pid}", start=False)
    succeeded(api.post("/api/v1/templates/", {"vm": source.pk, "name": f"tiny-{pid}",
                                              "storage_domain": world["domain"].pk}, format="json"))
    template = Template.objects.get()
    response = api.post("/api/v1/vms/", {"name": f"thin-{pid}", "cluster": world["cluster"].pk,
                                         "template": template.pk, "provisioning": "thin", "nics": [],
                                         "start": False}, format="json")
    succeeded(response)
    thin = Vm.objects.get(pk=response.json()["vm"]["id"])
    chain = api.get(f"/api/v1/vms/{thin.pk}/disks/").json()[0]["backing_chain"]
    assert [(link["path"], link["template_disk"]["template_name"]) for link in chain] == [
        (template.disks.get().path, template.name)]

    log_in(page)
    page.goto(f"/vms/{thin.pk}/")
    card = page.locator("#disks")
    expect(card.locator('td[data-label="Backing chain"]')).to_contain_text(f"template {template.name} disk 1")
    shot(page, "disks-thin-chain")
    card.locator("select[name=storage_domain]").select_option(str(data2.pk))
    card.locator('[data-disk-action="move"]').click()
    expect(page.locator("body")).to_contain_text(f"Move disk 1 of VM {thin.name}")
    job = wait_for_status(Job.objects.get(kind="vm.disk_move"), JobStatus.ENDED, timeout=180)
    assert job.status == JobStatus.SUCCEEDED, job.error
    page.goto(f"/vms/{thin.pk}/")
    expect(card.locator('td[data-label="Storage domain"]')).to_contain_text(data2.name)
    expect(card.locator('td[data-label="Backing chain"]')).to_contain_text("none: standalone")
    shot(page, "disks-moved")
