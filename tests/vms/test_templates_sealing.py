"""Sealing a template (issue 9) in the fast lane: the choice (API and page),
its default by OS family, the job's seal step, and what the template's page
shows before and after. libvirt's test driver has no files a guest tool can
open, so there the seal step keeps the copies unsealed and says why; the real
virt-sysprep runs in test_templates_sealing_real.py."""

import pytest

from core.models import Event, Job
from hypervisor.sealing import SEAL_OPERATIONS
from tests.support.jobs import run_job as run
from tests.vms.test_lifecycle import world  # noqa: F401 (the world fixture)
from tests.vms.test_templates import make, vm  # noqa: F401 (web1, down, two disks)
from tests.vms.test_views import page_of
from vms.choices import OsFamily, SealStatus, TemplateStatus, VmStatus
from vms.models import Template, Vm

pytestmark = pytest.mark.django_db


def steps(job):
    return [step["name"] for step in job.steps]


def test_a_linux_template_is_sealed_by_default_and_a_host_that_cannot_seal_keeps_it_unsealed_saying_why(vm, admin):
    template, job = make(vm, admin)
    assert template.seal_status == SealStatus.PENDING
    job = run(job)
    assert job.status == "succeeded" and steps(job) == ["Copy disk 1", "Copy disk 2", "Seal", "Register"]
    template.refresh_from_db()
    assert (template.status, template.seal_status, template.sealed) == (
        TemplateStatus.OK, SealStatus.UNSEALED, False)
    assert "test driver" in template.seal_message and template.seal_report == []
    warning = Event.objects.get(code="template.unsealed")
    assert warning.severity == "warning" and "copied unsealed" in warning.message
    assert Vm.objects.get().status == VmStatus.DOWN


def test_sealing_can_be_turned_off_and_other_families_are_not_sealed_by_default(vm, admin):
    template, job = make(vm, admin, seal=False)
    assert template.seal_status == SealStatus.OFF
    assert steps(run(job)) == ["Copy disk 1", "Copy disk 2", "Register"]
    vm.os_type.family = OsFamily.WINDOWS
    vm.os_type.save()
    other, job = make(Vm.objects.get(), admin, name="golden-win")
    assert other.seal_status == SealStatus.OFF and "Seal" not in steps(run(job))
    forced, job = make(Vm.objects.get(), admin, name="golden-forced", seal=True)
    assert forced.seal_status == SealStatus.PENDING and "Seal" in steps(run(job))


def test_the_api_takes_seal_as_a_boolean_or_null_and_shows_the_outcome(api, vm):
    def post(**extra):
        return api.post("/api/v1/templates/", {"vm": vm.pk, "name": "golden",
                                               "storage_domain": vm.disks.first().storage_domain_id, **extra},
                        format="json")

    bad = post(seal="maybe")
    assert bad.status_code == 400 and "seal" in bad.json()
    assert not Template.objects.exists() and Vm.objects.get().status == VmStatus.DOWN
    response = post(seal=None)
    assert response.status_code == 202, response.content
    body = response.json()["template"]
    assert (body["seal_status"], body["sealed"], body["seal_report"]) == ("pending", False, [])
    assert "seal" not in body  # the choice is write-only; seal_status says what came of it
    run(Job.objects.get(pk=response.json()["job"]["id"]))
    shown = api.get(f"/api/v1/templates/{body['id']}/").json()
    assert shown["seal_status"] == "unsealed" and "test driver" in shown["seal_message"]


def test_the_pages_show_what_sealing_will_do_and_what_it_did(logged_in, vm, admin):
    form = page_of(logged_in.get(f"/vms/{vm.pk}/make-template/"))
    assert "As the OS type says (seal for Debian 11)" in form and "data-seal-operations" in form
    domain = vm.disks.first().storage_domain
    response = logged_in.post(f"/vms/{vm.pk}/make-template/",
                              {"name": "golden", "storage_domain": domain.pk, "seal": "true"})
    template = Template.objects.get()
    assert response.status_code == 302 and template.seal_status == SealStatus.PENDING
    before = page_of(logged_in.get(f"/templates/{template.pk}/"))
    assert "To be sealed" in before
    assert all(operation.name in before for operation in SEAL_OPERATIONS)
    assert "Set the hostname to localhost and leave /etc/machine-id empty" in before

    # What the seal step stores when virt-sysprep ran (the real lane runs it).
    Template.objects.filter(pk=template.pk).update(
        status=TemplateStatus.OK, seal_status=SealStatus.SEALED, sealed=True,
        seal_message="virt-sysprep performed 36 operations in 19 s.",
        seal_report=['Performing "ssh-hostkeys" ...', "Truncating: /etc/machine-id"])
    after = page_of(logged_in.get(f"/templates/{template.pk}/"))
    assert "What virt-sysprep did" in after and "Truncating: /etc/machine-id" in after
    assert "performed 36 operations" in after and "data-seal-operations" not in after

    Template.objects.filter(pk=template.pk).update(seal_status=SealStatus.UNSEALED, sealed=False,
                                                   seal_message="virt-sysprep found no operating system")
    unsealed = page_of(logged_in.get(f"/templates/{template.pk}/"))
    assert "Not sealed: VMs made from this template share" in unsealed and "found no operating system" in unsealed


def test_the_page_form_keeps_the_input_on_a_bad_choice_and_defaults_an_unknown_one(logged_in, vm):
    domain = vm.disks.first().storage_domain
    answer = page_of(logged_in.post(f"/vms/{vm.pk}/make-template/",
                                    {"name": "a/b", "storage_domain": domain.pk, "seal": "false"}))
    assert "&#x27;/&#x27;" in answer or "'/'" in answer
    assert '<option value="false" selected>' in answer  # the choice survives the error
    assert not Template.objects.exists()
    logged_in.post(f"/vms/{vm.pk}/make-template/", {"name": "golden", "storage_domain": domain.pk,
                                                    "seal": "sideways"})
    assert Template.objects.get().seal_status == SealStatus.PENDING  # not a choice: the OS type's default
