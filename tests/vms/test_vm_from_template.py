"""VMs made from a template, against libvirt's test driver: POST vms/ with
``template`` (and ``template_latest``), thin vs clone and the profile's
default, the template's hardware filling what is left out, the 409 that
keeps a template thin VMs still use, and the wizard's template choice."""

import re

import pytest

import hypervisor
from core.models import Job
from tests.support.jobs import run_job as run
from tests.vms.test_api_snapshots import client_of
from tests.vms.test_lifecycle import world  # noqa: F401 (the world fixture)
from tests.vms.test_templates import make, vm  # noqa: F401 (web1, down, two disks)
from tests.vms.test_views import grant
from tests.vms.test_wizard import post, resend, step_shown
from vms.choices import Provisioning, TemplateStatus
from vms.models import Template, Vm
from vms.policy import default_provisioning

pytestmark = pytest.mark.django_db


@pytest.fixture
def template(vm, admin):
    """golden, made from web1 (1 vCPU, two disks), ready."""
    Vm.objects.filter(pk=vm.pk).update(memory_mb=768, memory_guaranteed_mb=384, cpu_cores=2,
                                       optimization="desktop", console="spice")
    made, job = make(Vm.objects.get(pk=vm.pk), admin)
    assert run(job).status == "succeeded"
    return Template.objects.get(pk=made.pk)


def create(client, world, name, **extra):
    body = {"name": name, "cluster": world["cluster"].pk, **extra}
    return client.post("/api/v1/vms/", body, format="json")


def created(client, world, name, **extra) -> Vm:
    response = create(client, world, name, **extra)
    assert response.status_code == 202, response.content
    assert run(Job.objects.get(pk=response.json()["job"]["id"])).status == "succeeded"
    return Vm.objects.get(pk=response.json()["vm"]["id"])


def test_the_profile_decides_thin_or_clone_when_not_said():
    assert [default_provisioning(p) for p in ("desktop", "server", "high_performance")] == ["thin", "clone", "clone"]


def test_a_vm_from_a_template_takes_its_hardware_and_a_desktop_gets_thin_overlays(api, world, template):
    vm = created(api, world, "thin1", template=template.pk)
    assert (vm.os_type, vm.memory_mb, vm.memory_guaranteed_mb, vm.cpu_cores, vm.optimization, vm.console) == (
        template.os_type, 768, 384, 2, "desktop", "spice")
    assert (vm.template, vm.template_version, vm.provisioning) == (template, 1, Provisioning.THIN)
    uri = world["hosts"][0].uri
    sources = {disk.index: disk for disk in template.disks.all()}
    for disk in vm.disks.all():
        assert (disk.template_disk, disk.format, disk.size_gb) == (sources[disk.index], "qcow2",
                                                                   sources[disk.index].size_gb)
        assert hypervisor.volume_by_path(uri, disk.path).capacity_bytes == disk.size_gb * 1024**3
    body = api.get(f"/api/v1/vms/{vm.pk}/").json()
    assert (body["template"], body["template_version"], body["provisioning"]) == (template.pk, 1, "thin")
    assert body["disks"][0]["template_disk"] == sources[0].pk


def test_what_the_request_gives_wins_and_a_server_gets_a_preallocated_clone(api, world, template):
    vm = created(api, world, "clone1", template=template.pk, memory_mb=1024, optimization="server",
                 clone_allocation="preallocated")
    assert (vm.memory_mb, vm.optimization, vm.provisioning, vm.cpu_cores) == (1024, "server", "clone", 2)
    assert vm.memory_guaranteed_mb != 384  # its own share of its own memory, not the template's
    assert [(disk.format, disk.allocation) for disk in vm.disks.all()] == [("raw", "preallocated")] * 2
    thin = created(api, world, "thin2", template=template.pk, provisioning="thin", optimization="server")
    assert thin.provisioning == "thin"


def test_latest_takes_the_newest_ready_version_at_creation_time(api, world, template, admin):
    second, job = make(Vm.objects.get(name="web1"), admin, name="golden-2", base_template=template)
    run(job)
    vm = created(api, world, "newest", template=template.pk, template_latest=True)
    assert (vm.template_id, vm.template_version) == (second.pk, 2)
    Template.objects.filter(pk=second.pk).update(status=TemplateStatus.LOCKED)  # not ready: skipped
    assert created(api, world, "older", template=second.pk, template_latest=True).template_version == 1
    assert created(api, world, "exact", template=template.pk).template_version == 1


def test_a_template_thin_vms_use_is_409_listing_them_and_a_clone_does_not_hold_it(api, world, template):
    thin = created(api, world, "thin1", template=template.pk, provisioning="thin")
    created(api, world, "clone1", template=template.pk, provisioning="clone")
    response = api.delete(f"/api/v1/templates/{template.pk}/")
    assert response.status_code == 409
    body = response.json()
    assert body["vms"] == [{"id": thin.pk, "name": "thin1"}] and "thin1" in body["detail"]
    assert Template.objects.get(pk=template.pk).status == TemplateStatus.OK  # nothing changed
    run(Job.objects.get(pk=api.delete(f"/api/v1/vms/{thin.pk}/").json()["job"]["id"]))
    response = api.delete(f"/api/v1/templates/{template.pk}/")
    assert response.status_code == 202, response.content
    assert run(Job.objects.get(pk=response.json()["job"]["id"])).status == "succeeded"
    clone = Vm.objects.get(name="clone1")
    assert (clone.template, clone.template_version) == (None, 1)  # the record of its origin stays


def test_bad_template_inputs_are_400_and_nothing_is_created(api, world, template, charlie):
    assert create(api, world, "x", template=999999).status_code == 400
    assert create(api, world, "x", template="abc").status_code == 400
    response = create(api, world, "x", template=template.pk, provisioning="sideways")
    assert response.status_code == 400 and "provisioning" in response.json()
    response = create(api, world, "x", os_type=world["os"].short_id, provisioning="thin")
    assert response.status_code == 400 and "choose a template" in response.json()["provisioning"][0]
    Template.objects.filter(pk=template.pk).update(status=TemplateStatus.LOCKED)
    response = create(api, world, "x", template=template.pk)
    assert response.status_code == 400 and "is locked" in response.json()["template"][0]
    assert create(api, world, "x").json() == {"os_type": ["Choose an operating system."]}
    Template.objects.filter(pk=template.pk).update(status=TemplateStatus.OK)
    grant(charlie, ["create"], world["cluster"])
    response = create(client_of(charlie), world, "x", template=template.pk)  # charlie cannot see it
    assert response.status_code == 400 and "template" in response.json()
    assert not Vm.objects.filter(name="x").exists()


def test_the_wizard_offers_the_template_and_its_hardware_fills_the_steps(logged_in, world, template):
    page = logged_in.get("/vms/new/").content.decode()
    assert f'value="{template.pk}"' in page and "golden: version 1" in page
    answers = {"basics-name": "wiz1", "basics-cluster": world["cluster"].pk, "basics-os_type": world["os"].short_id,
               "basics-template": str(template.pk), "basics-provisioning": "", "basics-clone_allocation": "thin",
               "wizard-step": "1"}
    page = post(logged_in, answers)
    assert step_shown(page) == 2, page.content.decode()[:3000]
    assert 'value="768"' in page.content.decode()  # the template's memory


def test_the_wizard_makes_a_thin_vm_from_the_template_with_its_prefilled_answers(logged_in, world, template):
    page = logged_in.get("/vms/new/").content.decode()
    answers = {**resend(page), "basics-name": "wiz2", "basics-template": str(template.pk),
               "basics-clone_allocation": "thin"}
    for number in (2, 3, 4, 5):
        response = post(logged_in, answers)
        assert step_shown(response) == number, response.content.decode()[:2000]
        page = response.content.decode()
        answers = resend(page)
        if number == 3:  # radios: checked as the template says, sent back as a browser does
            assert re.search(r'value="desktop"[^>]*checked', page)
            answers["profile-optimization"] = "desktop"
        if number == 4:
            assert "From template <strong>golden</strong> (version 1)" in page
            assert answers["disks-TOTAL_FORMS"] == "0"  # its disks are the template's
    assert re.search(r'value="spice"[^>]*checked', page)
    answers.update({"finish-console": "spice", "finish-start": ""})
    response = post(logged_in, answers, "create")
    assert response.status_code == 302
    vm = Vm.objects.get(name="wiz2")
    assert (vm.template, vm.provisioning, vm.memory_mb, vm.console, vm.os_type) == (
        template, "thin", 768, "spice", template.os_type)
    assert vm.disks.count() == 2 and all(disk.template_disk for disk in vm.disks.all())
    page = logged_in.get(f"/vms/{vm.pk}/").content.decode()
    assert "golden</a>" in page and "version 1" in page
    page = logged_in.get(f"/templates/{template.pk}/").content.decode()
    assert "wiz2</a>" in page and "cannot be deleted now" in page and "thin VMs (wiz2)" in page


def test_the_template_pages_delete_button_is_refused_while_a_thin_vm_uses_it(logged_in, api, world, template):
    thin = created(api, world, "thin1", template=template.pk)
    response = logged_in.post(f"/templates/{template.pk}/delete/", follow=True)
    page = response.content.decode()
    assert "backing of thin VMs (thin1)" in page
    assert Template.objects.get(pk=template.pk).status == TemplateStatus.OK
    run(Job.objects.get(pk=api.delete(f"/api/v1/vms/{thin.pk}/").json()["job"]["id"]))
    response = logged_in.post(f"/templates/{template.pk}/delete/")
    assert response.status_code == 302 and response.url == "/templates/"
    assert run(Job.objects.get(kind="template.delete")).status == "succeeded"
    assert not Template.objects.filter(pk=template.pk).exists()
    assert logged_in.get(f"/templates/{template.pk}/delete/").status_code == 405
