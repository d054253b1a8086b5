"""POST templates/ with an image (API.md `templates/`): either vm or image,
the OS type required with an image, formats the hosts cannot copy refused,
bad input a 400 naming the field, with nothing written."""

import pytest

from core.models import Job
from tests.support.jobs import run_job as run
from tests.vms.test_api_snapshots import client_of
from tests.vms.test_lifecycle import world  # noqa: F401 (the world fixture)
from tests.vms.test_templates import vm  # noqa: F401 (web1, down, two disks)
from tests.vms.test_templates_from_images import images_pool_removed, place_image  # noqa: F401 (fixture)
from tests.vms.test_views import grant
from vms.models import Template

pytestmark = pytest.mark.django_db
URL = "/api/v1/templates/"


def make(client, world, source_image, **extra):
    body = {"image": source_image.pk, "name": "cloud-tpl", "os_type": world["os"].pk,
            "storage_domain": world["domain"].pk, **extra}
    return client.post(URL, body, format="json")


def test_it_makes_a_template_of_an_image_and_says_where_it_came_from(api, world):
    image = place_image(world)
    response = make(api, world, image, memory_mb=2048, cpu_cores=2)
    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["template"]["status"], body["template"]["memory_mb"], body["template"]["cpu"]) == (
        "locked", 2048, {"sockets": 1, "cores": 2, "threads": 1})
    assert body["job"]["target"]["name"] == "cloud"
    assert run(Job.objects.get(pk=body["job"]["id"])).status == "succeeded"
    template = api.get(f"{URL}{body['template']['id']}/").json()
    assert (template["status"], template["created_from_image"], template["created_from_vm"]) == ("ok", image.pk,
                                                                                                   None)
    assert (template["os_type"], len(template["disks"]), template["disks"][0]["format"]) == (
        world["os"].pk, 1, "qcow2")


def test_vm_and_image_together_or_neither_are_refused(api, world, vm):
    image = place_image(world)
    both = make(api, world, image, vm=vm.pk)
    assert both.status_code == 400 and "either a VM" in both.json()["vm"][0]
    neither = api.post(URL, {"name": "x", "storage_domain": world["domain"].pk}, format="json")
    assert neither.status_code == 400 and "either a VM" in neither.json()["vm"][0]
    assert not Template.objects.exists() and not Job.objects.filter(kind="template.create").exists()


def test_hardware_comes_from_the_vm_and_the_os_type_is_required_with_an_image(api, world, vm):
    response = api.post(URL, {"vm": vm.pk, "name": "x", "storage_domain": world["domain"].pk, "memory_mb": 64},
                        format="json")
    assert response.status_code == 400 and "takes the VM's hardware" in response.json()["memory_mb"][0]
    response = make(api, world, place_image(world), os_type=None)
    assert response.status_code == 400, response.content
    response = api.post(URL, {"image": place_image(world, "other").pk, "name": "x",
                              "storage_domain": world["domain"].pk}, format="json")
    assert response.status_code == 400 and "operating system" in response.json()["os_type"][0]
    assert not Template.objects.exists()


@pytest.mark.parametrize(("field", "value", "says"), [
    ("memory_mb", 0, "greater than or equal to 1"),
    ("cpu_cores", "many", "whole number"),
    ("os_type", "no-such-os", "does not exist"),
    ("name", "a/b", "'/'"),
    ("image", 99999, "does not exist"),
    ("storage_domain", None, "null"),
])
def test_bad_input_is_a_400_naming_the_field(api, world, field, value, says):
    response = make(api, world, place_image(world), **{field: value})
    assert response.status_code == 400, response.content
    assert says in str(response.json()[field]), response.json()
    assert not Template.objects.exists()


def test_a_format_the_hosts_cannot_copy_is_refused_at_request_time(api, world):
    response = make(api, world, place_image(world, "win", format="vhdx"))
    assert response.status_code == 400
    assert "cannot read" in response.json()["image"][0] and "qemu-img convert" in response.json()["image"][0]
    assert not Template.objects.exists()


def test_a_vm_from_an_image_the_hosts_cannot_copy_is_refused_at_request_time(api, world):
    image = place_image(world, "win", format="vhdx")
    body = {"name": "web9", "cluster": world["cluster"].pk, "os_type": world["os"].pk, "memory_mb": 512,
            "disks": [{"image": image.pk, "storage_domain": world["domain"].pk}]}
    response = api.post("/api/v1/vms/", body, format="json")
    assert response.status_code == 400 and "vhdx image, which libvirt on the hosts cannot read" in str(
        response.json())


def test_who_may_make_a_template_of_an_image(world, charlie):
    image = place_image(world)
    assert make(client_of(charlie), world, image).status_code == 404  # charlie cannot see the image
    grant(charlie, ["view"], image)
    assert make(client_of(charlie), world, image).status_code == 403
    grant(charlie, ["create"], world["data_center"])
    assert make(client_of(charlie), world, image).status_code == 202
