"""The template pages: Make template from the VM page, the list and a template's page."""

import pytest

from core.models import Job
from tests.support.jobs import run_job as run
from tests.vms.test_lifecycle import world  # noqa: F401 (the world fixture)
from tests.vms.test_templates import vm  # noqa: F401 (web1, down, two disks)
from tests.vms.test_views import grant, page_of
from vms.choices import VmStatus
from vms.models import Template, Vm

pytestmark = pytest.mark.django_db


def test_a_down_vm_offers_make_template_and_the_form_starts_the_job(logged_in, vm):
    assert "Make template" in page_of(logged_in.get(f"/vms/{vm.pk}/"))
    domain = vm.disks.first().storage_domain
    response = logged_in.post(f"/vms/{vm.pk}/make-template/", {"name": "golden", "storage_domain": domain.pk})
    template = Template.objects.get()
    assert response.status_code == 302 and response.url == f"/templates/{template.pk}/"
    run(Job.objects.get(kind="template.create"))
    listed = page_of(logged_in.get("/templates/"))
    assert "golden" in listed and 'href="/templates/"' in listed  # the navigation's entry is on
    detail = page_of(logged_in.get(f"/templates/{template.pk}/"))
    assert "VM web1" in detail and "Versions" in detail and "2 GiB" in detail


def test_a_running_vm_offers_no_make_template_and_the_form_says_why(logged_in, vm):
    Vm.objects.filter(pk=vm.pk).update(status=VmStatus.UP)
    assert "Make template" not in page_of(logged_in.get(f"/vms/{vm.pk}/"))
    domain = vm.disks.first().storage_domain
    answer = page_of(logged_in.post(f"/vms/{vm.pk}/make-template/", {"name": "golden", "storage_domain": domain.pk}))
    assert "is up: a template is made from a VM that is down" in answer
    assert not Template.objects.exists()


def test_a_user_who_only_sees_the_vm_gets_no_button(client, vm, charlie):
    grant(charlie, ["view"], vm)
    client.force_login(charlie)
    assert "Make template" not in page_of(client.get(f"/vms/{vm.pk}/"))
    assert page_of(client.get("/templates/"))
