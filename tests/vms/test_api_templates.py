"""The templates API (API.md `templates/`): made from a down VM as a job,
listed with filters, deleted as a job; who may do what."""

import pytest

from tests.support.jobs import run_job as run
from tests.vms.test_api_snapshots import client_of
from tests.vms.test_lifecycle import world  # noqa: F401 (the world fixture)
from tests.vms.test_templates import vm  # noqa: F401 (web1, down, two disks)
from tests.vms.test_views import grant
from core.models import Job
from vms.choices import VmStatus
from vms.models import Template, Vm

pytestmark = pytest.mark.django_db


def make(client, vm, **extra):
    return client.post("/api/v1/templates/", {"vm": vm.pk, "name": "golden",
                                              "storage_domain": vm.disks.first().storage_domain_id, **extra},
                       format="json")


def test_it_makes_lists_filters_and_deletes_a_template(api, vm):
    response = make(api, vm, description="base")
    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["template"]["status"], body["template"]["version_number"]) == ("locked", 1)
    assert run(Job.objects.get(pk=body["job"]["id"])).status == "succeeded"
    template = Template.objects.get()
    listed = api.get("/api/v1/templates/", {"status": "ok", "q": "gold"}).json()["results"]
    assert [(t["name"], t["cpu"], len(t["disks"])) for t in listed] == [
        ("golden", {"sockets": 1, "cores": 1, "threads": 1}, 2)]
    assert api.get("/api/v1/templates/", {"base_template": template.pk}).json()["results"] == []

    version = make(api, Vm.objects.get(), name="golden-2", base_template=template.pk, version_name="v2")
    assert version.json()["template"]["version_number"] == 2

    response = api.delete(f"/api/v1/templates/{template.pk}/")
    assert response.status_code == 409  # a version hangs from it


def test_a_running_vm_is_409_and_a_locked_template_cannot_be_deleted(api, vm):
    Vm.objects.filter(pk=vm.pk).update(status=VmStatus.UP)
    response = make(api, vm)
    assert response.status_code == 409 and "is up" in response.json()["detail"]
    Vm.objects.filter(pk=vm.pk).update(status=VmStatus.DOWN)
    template_id = make(api, vm).json()["template"]["id"]
    assert api.delete(f"/api/v1/templates/{template_id}/").status_code == 409


def test_who_may_make_see_and_delete_templates(api, vm, alice, charlie):
    assert make(client_of(charlie), vm).status_code == 404  # charlie cannot see the VM
    grant(charlie, ["view"], vm)
    assert make(client_of(charlie), vm).status_code == 403  # seeing it is not enough
    grant(charlie, ["create"], vm.data_center)
    response = make(client_of(charlie), vm)
    assert response.status_code == 202, response.content
    run(Job.objects.get(pk=response.json()["job"]["id"]))
    template = Template.objects.get()
    assert client_of(charlie).get("/api/v1/templates/").json()["results"] == []
    grant(charlie, ["view"], template)
    assert client_of(charlie).delete(f"/api/v1/templates/{template.pk}/").status_code == 403
    grant(charlie, ["delete"], template)
    assert client_of(charlie).delete(f"/api/v1/templates/{template.pk}/").status_code == 202
