"""Editing a running VM (issue 9): what changes at once, what changes live
within the ceilings its domain was defined with, what waits for the next
start as its next-run configuration, and that the next start applies it.
Run against libvirt's test driver, which plugs vCPUs live but has no memory
hot-plug at all: it shows the "libvirt refused it live" path for memory (the
real lane, tests/vms/test_edit_running_real.py, plugs memory for real)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

import hypervisor
from core.errors import Conflict
from core.models import Event, Job
from tests.support.jobs import run_job as run
from tests.vms import test_lifecycle
from vms.choices import VmStatus
from vms.models import Vm
from vms.services import lifecycle
from vms.services.edit import vm_edit

pytestmark = pytest.mark.django_db
world = test_lifecycle.world  # the simulated host with a data domain and a network
request = test_lifecycle.request


@pytest.fixture
def api(admin):
    client = APIClient()
    client.force_authenticate(admin)
    return client


@pytest.fixture
def running(world, admin):
    """web1: 512 MiB, 1 vCPU, one NIC, up on the simulated host (8 GiB, 8 threads)."""
    vm, job = lifecycle.vm_create(request=request(world), user=admin)
    assert run(job).status == "succeeded"
    return Vm.objects.get(pk=vm.pk)


def live_xml(vm: Vm) -> str:
    return hypervisor.domain_xml(vm.host.uri, str(vm.uuid))


def patch(api, vm: Vm, changes: dict):
    return api.patch(f"/api/v1/vms/{vm.pk}/", changes, format="json")


def test_its_domain_is_defined_with_room_to_grow(running):
    # Four times its memory and vCPUs, within the largest host (8 GiB; 2 x 2 cores counted as cores).
    assert (running.max_memory_mb, running.max_vcpus) == (2048, 4)
    xml = live_xml(running)
    assert "<maxMemory slots='16' unit='KiB'>2097152</maxMemory>" in xml
    assert "<vcpu placement='static' current='1'>4</vcpu>" in xml


def test_vcpus_change_live_by_a_job(running, api):
    response = patch(api, running, {"cpu_sockets": 3})
    assert response.status_code == 202, response.content
    assert response.json()["vm"]["cpu_sockets"] == 1  # the job changes it, once libvirt did
    job = run(Job.objects.get(pk=response.json()["job"]["id"]))
    assert job.status == "succeeded", job.error
    running.refresh_from_db()
    assert (running.cpu_sockets, running.next_run) == (3, None)
    assert "current='3'>4</vcpu>" in live_xml(running)


def test_what_libvirt_refuses_live_waits_for_the_next_start_with_its_reason(running, admin):
    vm, job = vm_edit(vm=running, user=admin, changes={"memory_mb": 1024})
    assert job is not None and run(job).status == "succeeded"
    vm.refresh_from_db()
    assert vm.memory_mb == 512
    assert vm.next_run["memory_mb"]["value"] == 1024
    assert "Refused live" in vm.next_run["memory_mb"]["reason"]
    assert "not supported" in vm.next_run["memory_mb"]["reason"]  # libvirt's own words
    assert Event.objects.filter(code="vm.edit_deferred").exists()


def test_beyond_the_ceiling_or_a_device_change_is_pending_with_a_200(running, api):
    response = patch(api, running, {"memory_mb": 4096, "console": "spice", "boot_order": "network, hd",
                                    "name": "web2", "description": "front"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["name"], body["description"], body["memory_mb"], body["console"]) == ("web2", "front", 512, "vnc")
    assert {name: entry["value"] for name, entry in body["next_run"].items()} == {
        "memory_mb": 4096, "console": "spice", "boot_order": "network,hd"}
    assert "more than the 2048 MiB" in body["next_run"]["memory_mb"]["reason"]
    # Taking the change back drops it from the next run.
    response = patch(api, running, {"memory_mb": 512, "console": "vnc", "boot_order": "hd"})
    assert response.status_code == 200 and response.json()["next_run"] is None


def test_less_memory_and_other_cores_wait_for_the_next_start(running, admin):
    vm, job = vm_edit(vm=running, user=admin, changes={"memory_mb": 384, "memory_guaranteed_mb": 256,
                                                       "cpu_cores": 2})
    assert job is None
    assert set(vm.next_run) == {"memory_mb", "cpu_cores"}
    assert "taken back only at the next start" in vm.next_run["memory_mb"]["reason"]
    assert "whole sockets" in vm.next_run["cpu_cores"]["reason"]
    assert Vm.objects.get(pk=vm.pk).memory_guaranteed_mb == 256  # at once: it fits the memory it has


def test_the_next_start_applies_the_pending_changes(world, running, admin):
    vm, _ = vm_edit(vm=running, user=admin, changes={"memory_mb": 4096, "boot_order": "network,hd"})
    assert run(lifecycle.vm_poweroff(vm=vm, user=admin)).status == "succeeded"
    vm = Vm.objects.get(pk=vm.pk)
    assert vm.next_run is not None and vm.memory_mb == 512  # stopping is not starting
    assert run(lifecycle.vm_start(vm=vm, user=admin)).status == "succeeded"
    vm = Vm.objects.get(pk=vm.pk)
    assert (vm.memory_mb, vm.boot_order, vm.next_run, vm.status) == (4096, "network,hd", None, VmStatus.UP)
    spec = hypervisor.parse_domain_xml(live_xml(vm))
    assert spec.memory_mb == 4096 and spec.max_memory_mb == 8192  # the ceiling follows the new memory
    assert spec.nics[0].boot_order == 1 and spec.disks[0].boot_order == 2
    assert Event.objects.filter(code="vm.next_run_applied").exists()


def test_a_refused_start_keeps_the_changes_pending(running, admin):
    vm, _ = vm_edit(vm=running, user=admin, changes={"memory_mb": 4096})  # beyond its ceiling of 2048 MiB
    assert run(lifecycle.vm_poweroff(vm=vm, user=admin)).status == "succeeded"
    host = Vm.objects.get(pk=vm.pk).host
    host.status = "maintenance"
    host.save()
    with pytest.raises(Conflict, match="No host can run"):
        lifecycle.vm_start(vm=Vm.objects.get(pk=vm.pk), user=admin)
    vm = Vm.objects.get(pk=vm.pk)
    assert vm.memory_mb == 512 and vm.next_run["memory_mb"]["value"] == 4096


@pytest.mark.parametrize("changes, field", [
    ({"memory_mb": 1024, "memory_guaranteed_mb": 2048}, "memory_guaranteed_mb"),  # guaranteed above the memory
    ({"cpu_sockets": 5, "cpu_cores": 2}, "cpu_sockets"),  # 10 vCPUs: more than the largest host
    ({"memory_mb": 65536}, "memory_mb"),  # more than the largest host
    ({"memory_mb": 128}, "memory_mb"),  # under the OS minimum
    ({"boot_order": "floppy,hd"}, "boot_order"),
    ({"boot_order": "hd,hd"}, "boot_order"),
    ({"boot_order": ""}, "boot_order"),
    ({"cpu_threads": 0}, "cpu_threads"),
])
def test_bad_input_on_a_running_vm_is_a_400_and_changes_nothing(running, api, changes, field):
    response = patch(api, running, changes)
    assert response.status_code == 400, response.content
    assert field in response.json()
    fresh = Vm.objects.get(pk=running.pk)
    assert (fresh.memory_mb, fresh.cpu_sockets, fresh.next_run, fresh.boot_order) == (512, 1, None, "hd")


def test_network_boot_needs_a_nic(world, admin, api):
    vm, job = lifecycle.vm_create(request=request(world, nics=(), start=False), user=admin)
    run(job)
    response = patch(api, vm, {"boot_order": "network"})
    assert response.status_code == 400 and "needs a NIC" in response.json()["boot_order"][0]


def test_a_vm_in_transition_is_not_edited(running, api):
    Vm.objects.filter(pk=running.pk).update(status=VmStatus.MIGRATING)
    response = patch(api, running, {"description": "x"})
    assert response.status_code == 409, response.content


def test_growth_its_host_has_no_room_for_waits_for_the_next_start(running, admin):
    # Another VM up on the same host holds nearly all of its memory (overcommit and headroom as the scheduler counts).
    other = Vm.objects.create(name="hog", cluster=running.cluster, data_center=running.data_center,
                              os_type=running.os_type, memory_mb=7600, memory_guaranteed_mb=7600,
                              status=VmStatus.UP, host=running.host)
    vm, job = vm_edit(vm=running, user=admin, changes={"memory_mb": 1024})
    assert job is None
    assert "no room" in vm.next_run["memory_mb"]["reason"]
    other.delete()
    vm, job = vm_edit(vm=vm, user=admin, changes={"cpu_sockets": 2})
    assert job is not None  # the host has room again: the pending memory goes live with the vCPUs


def test_nics_of_a_running_vm_are_replaced_at_the_next_start(world, running, admin, api):
    own_mac = running.nics.get().mac
    network = world["network"].pk
    response = patch(api, running, {"nics": [{"network": network, "mac": own_mac, "model": "e1000"},
                                             {"network": network}]})
    assert response.status_code == 200, response.content
    pending = response.json()["next_run"]["nics"]["value"]
    assert pending == [{"network": network, "model": "e1000", "mac": own_mac}, {"network": network, "model": "",
                                                                                "mac": ""}]
    assert running.nics.count() == 1
    assert run(lifecycle.vm_poweroff(vm=Vm.objects.get(pk=running.pk), user=admin)).status == "succeeded"
    assert run(lifecycle.vm_start(vm=Vm.objects.get(pk=running.pk), user=admin)).status == "succeeded"
    vm = Vm.objects.get(pk=running.pk)
    nics = list(vm.nics.order_by("index"))
    assert [(nic.model, nic.mac == own_mac) for nic in nics] == [("e1000", True), ("", False)]
    spec = hypervisor.parse_domain_xml(live_xml(vm))
    assert [nic.mac for nic in spec.nics] == [nic.mac for nic in nics] and spec.nics[0].model == "e1000"


def test_nics_of_a_down_vm_change_at_once_and_are_checked(world, admin, api):
    vm, job = lifecycle.vm_create(request=request(world, start=False), user=admin)
    run(job)
    other, job = lifecycle.vm_create(request=request(world, name="db1", start=False), user=admin)
    run(job)
    network = world["network"].pk
    taken = other.nics.get().mac
    response = patch(api, vm, {"nics": [{"network": network, "mac": taken}]})
    assert response.status_code == 400 and "already used" in response.json()["nics"][0]
    response = patch(api, vm, {"nics": [], "boot_order": "network,hd"})
    assert response.status_code == 400 and "needs a NIC" in response.json()["boot_order"][0]
    assert vm.nics.count() == 1
    response = patch(api, vm, {"nics": [{"network": network, "mac": "56:6F:00:01:AA:BB"}]})
    assert response.status_code == 200, response.content
    assert list(vm.nics.values_list("mac", flat=True)) == ["56:6f:00:01:aa:bb"]
    assert response.json()["nics"][0]["mac"] == "56:6f:00:01:aa:bb"
    assert patch(api, vm, {"nics": []}).status_code == 200 and vm.nics.count() == 0
