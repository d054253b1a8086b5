"""POST /api/v1/vms/ and the VM actions, in the fast lane: every refusal is a
400 naming the field (or a 409 naming the state) and leaves nothing behind."""

import pytest

from core.models import Job
from vms.choices import VmStatus
from vms.forms import RunOnceForm
from vms.models import InstanceType, Vm, VmDisk, VmNic
from tests.vms.factories import vm_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db):
    return vm_world(overcommit=150)


def body(world, **overrides):
    data = {
        "name": "web1",
        "cluster": world["cluster"].pk,
        "os_type": "debian11",
        "memory_mb": 1024,
        "disks": [{"size_gb": 2, "storage_domain": world["domain"].pk}],
        "nics": [{"network": world["network"].pk}],
    }
    data.update(overrides)
    return data


def refused(api, data, field):
    response = api.post("/api/v1/vms/", data, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert not Vm.objects.exists() and not Job.objects.exists()
    return response.json()[field]


def test_it_creates_a_vm_and_answers_202_with_the_vm_and_its_job(api, world):
    response = api.post("/api/v1/vms/", body(world), format="json")
    assert response.status_code == 202, response.content
    vm, job = response.json()["vm"], response.json()["job"]
    assert vm["status"] == VmStatus.IMAGE_LOCKED
    assert vm["placement"]["host"] in {h.pk for h in world["hosts"]}
    assert vm["placement"]["summary"].startswith("Placed on host")
    assert len(vm["placement"]["reasons"]) == 2
    assert vm["memory_guaranteed_mb"] == 683  # 1024 at 150 % overcommit
    assert vm["nics"][0]["mac"].startswith("56:6f:")
    assert vm["disks"][0]["bootable"] is True
    assert job["kind"] == "vm.create"
    assert [step["name"] for step in job["steps"]][0] == "Create disk 1"


def test_it_fills_the_figures_from_an_instance_type_and_keeps_it_while_they_match(api, world):
    medium = InstanceType.objects.create(name="Medium", memory_mb=4096, cpu_sockets=2)
    data = body(world, instance_type=medium.pk)
    del data["memory_mb"]
    vm = api.post("/api/v1/vms/", data, format="json").json()["vm"]
    assert (vm["memory_mb"], vm["cpu_sockets"], vm["instance_type"]) == (4096, 2, medium.pk)
    custom = api.post("/api/v1/vms/", body(world, name="web2", instance_type=medium.pk, memory_mb=2048),
                      format="json").json()["vm"]
    assert custom["instance_type"] is None


def test_it_pins_the_vm_to_the_host_given_as_pin_host(api, world):
    pinned = world["hosts"][1]
    response = api.post("/api/v1/vms/", body(world, pin_host=pinned.pk), format="json")
    assert response.status_code == 202, response.content
    vm = response.json()["vm"]
    assert vm["pinned_host"] == vm["placement"]["host"] == pinned.pk
    assert "pin_host" not in vm  # written only; `host` says where the VM is


def test_it_refuses_memory_below_the_os_minimum(api, world):
    assert "Debian 11 needs at least 256 MiB" in refused(api, body(world, memory_mb=128), "memory_mb")[0]


def test_it_refuses_more_vcpus_than_the_largest_host_has(api, world):
    message = refused(api, body(world, cpu_sockets=4, cpu_cores=2, cpu_threads=2), "cpu_sockets")[0]
    assert "4 x 2 x 2 = 16 vCPUs is more than the largest host" in message
    assert "(4 cores)" in message


def test_it_refuses_a_duplicate_name_in_the_data_center(api, world):
    assert api.post("/api/v1/vms/", body(world), format="json").status_code == 202
    response = api.post("/api/v1/vms/", body(world), format="json")
    assert response.status_code == 400
    assert "already has a VM named web1" in response.json()["name"][0]
    assert Vm.objects.count() == 1


def test_it_refuses_an_invalid_mac(api, world):
    message = refused(api, body(world, nics=[{"network": world["network"].pk, "mac": "zz:00"}]), "nics")[0]
    assert "is not a MAC address" in message


def test_it_refuses_a_multicast_mac(api, world):
    message = refused(api, body(world, nics=[{"network": world["network"].pk, "mac": "01:00:5e:00:00:01"}]),
                      "nics")[0]
    assert "multicast" in message


def test_it_refuses_a_mac_already_used_in_the_data_center(api, world):
    first = api.post("/api/v1/vms/", body(world), format="json").json()["vm"]["nics"][0]["mac"]
    response = api.post("/api/v1/vms/", body(world, name="web2", nics=[{"network": world["network"].pk,
                                                                          "mac": first.upper()}]), format="json")
    assert response.status_code == 400 and "already used" in response.json()["nics"][0]
    assert VmNic.objects.count() == 1


def test_it_refuses_a_missing_network(api, world):
    refused(api, body(world, nics=[{"network": 9999}]), "nics")


def test_it_refuses_a_missing_storage_domain(api, world):
    refused(api, body(world, disks=[{"size_gb": 1, "storage_domain": 9999}]), "disks")


def test_it_refuses_a_preallocated_disk_larger_than_the_free_space(api, world):
    disks = [{"size_gb": 101, "allocation": "preallocated", "storage_domain": world["domain"].pk}]
    message = refused(api, body(world, disks=disks), "disks")[0]
    assert "101 GiB preallocated does not fit" in message and "100.0 GiB free" in message


def test_it_accepts_a_thin_disk_larger_than_the_free_space(api, world):
    disks = [{"size_gb": 500, "storage_domain": world["domain"].pk}]
    assert api.post("/api/v1/vms/", body(world, disks=disks), format="json").status_code == 202


def test_it_accepts_xml_metacharacters_in_the_name_safely(api, world):
    response = api.post("/api/v1/vms/", body(world, name='a<b&"c\''), format="json")
    assert response.status_code == 202
    assert Vm.objects.get().name == 'a<b&"c\''


def test_it_refuses_a_slash_in_the_name(api, world):
    assert "'/'" in refused(api, body(world, name="a/b"), "name")[0]


def test_it_answers_409_naming_each_refused_host_when_no_host_fits(api, world):
    from inventory.models import Host

    Host.objects.filter(name="host1").update(status="maintenance")
    Host.objects.filter(name="host2").update(status="non_responsive")
    response = api.post("/api/v1/vms/", body(world), format="json")
    assert response.status_code == 409, response.content
    detail = response.json()["detail"]
    assert detail.startswith("No host can run VM web1")
    assert "host1" in detail and "host2" in detail and "status" in detail
    assert not Vm.objects.exists()


def test_it_answers_409_naming_the_state_when_starting_a_vm_that_is_up(api, world):
    vm = api.post("/api/v1/vms/", body(world), format="json").json()["vm"]
    Vm.objects.filter(pk=vm["id"]).update(status=VmStatus.UP)
    response = api.post(f"/api/v1/vms/{vm['id']}/start/")
    assert response.status_code == 409
    assert response.json() == {"detail": "VM web1 is up; it can start only when down.", "code": "conflict"}


def test_it_deletes_only_a_vm_that_is_down(api, world):
    vm = api.post("/api/v1/vms/", body(world), format="json").json()["vm"]
    Vm.objects.filter(pk=vm["id"]).update(status=VmStatus.UP)
    assert api.delete(f"/api/v1/vms/{vm['id']}/").status_code == 409
    Vm.objects.filter(pk=vm["id"]).update(status=VmStatus.DOWN)
    Job.objects.update(status="succeeded")
    response = api.delete(f"/api/v1/vms/{vm['id']}/")
    assert response.status_code == 202 and response.json()["job"]["kind"] == "vm.delete"
    assert Vm.objects.get().status == VmStatus.IMAGE_LOCKED


def test_charlie_sees_no_vm_and_cannot_create_one(world, charlie, admin):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(charlie)
    assert client.get("/api/v1/vms/").json()["count"] == 0
    assert client.post("/api/v1/vms/", body(world), format="json").status_code == 403
    assert not Vm.objects.exists()


# ---- Run Once: the form's inputs, the same limits ----------------------------

def test_run_once_takes_the_forms_inputs_and_starts_a_job(api, world):
    vm = api.post("/api/v1/vms/", body(world), format="json").json()["vm"]
    Vm.objects.filter(pk=vm["id"]).update(status=VmStatus.DOWN)
    Job.objects.update(status="succeeded")
    VmDisk.objects.update(status="ok")
    response = api.post(f"/api/v1/vms/{vm['id']}/run-once/", {"boot_device": "network", "boot_menu": True,
                                                              "console": "spice"}, format="json")
    assert response.status_code == 202, response.content
    assert response.json()["job"]["title"] == "Run VM web1 once"


@pytest.mark.parametrize("data, field", [
    ({"kernel": "/boot/" + "k" * 1100}, "kernel"),  # RunOnceForm: at most 1024 characters
    ({"cmdline": "x" * 2049}, "cmdline"),
    ({"boot_device": "floppy"}, "boot_device"),  # not a BootDevice
    ({"console": "rdp"}, "console"),
])
def test_run_once_refuses_what_the_form_refuses(api, world, data, field):
    vm = api.post("/api/v1/vms/", body(world), format="json").json()["vm"]
    response = api.post(f"/api/v1/vms/{vm['id']}/run-once/", data, format="json")
    assert response.status_code == 400 and field in response.json(), response.content
    form = RunOnceForm(data, vm=Vm.objects.get(pk=vm["id"]))
    assert not form.is_valid() and field in form.errors


# ---- VM create: the wizard's limits (tests.vms.test_vm_inputs: all its inputs) ----

def test_it_refuses_more_disks_or_nics_than_the_wizard_offers(api, world):
    nine = 9
    data = body(world, disks=[{"size_gb": 1, "storage_domain": world["domain"].pk}] * nine,
                nics=[{"network": world["network"].pk}] * nine)
    assert "at most 8" in refused(api, data, "disks")[0]
    assert "at most 8" in refused(api, data, "nics")[0]

