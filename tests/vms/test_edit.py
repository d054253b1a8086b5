"""Editing a VM (issue 9): ``PATCH /api/v1/vms/<id>/`` and the Edit page go
through vm_edit, checked by the same rules as creation; a bad input is a 400
per field with nothing changed."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from core.models import Event
from tests.vms.factories import OperatingSystemFactory
from tests.vms.test_views import cluster, domain, host, make_vm, page_of  # noqa: F401 (fixtures)
from vms.choices import VmStatus
from vms.models import Vm

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue():
    OperatingSystemFactory(short_id="linux-generic", name="Linux", minimum_memory_mb=512, minimum_vcpus=1)


@pytest.fixture
def api(alice):
    client = APIClient()
    client.force_authenticate(alice)
    return client


def _settings(vm: Vm) -> tuple:
    vm.refresh_from_db()
    return (vm.name, vm.description, vm.memory_mb, vm.memory_guaranteed_mb, vm.cpu_sockets, vm.cpu_cores,
            vm.cpu_threads, vm.optimization, vm.console)


def test_a_down_vm_is_edited_at_once(catalogue, cluster, host, alice, api):
    vm = make_vm(cluster, "web1", owner=alice)
    response = api.patch(f"/api/v1/vms/{vm.pk}/", {"name": "web2", "description": "front", "memory_mb": 4096,
                                                   "cpu_sockets": 2}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["name"] == "web2" and response.json()["memory_mb"] == 4096
    assert _settings(vm)[:5] == ("web2", "front", 4096, 1366, 2)
    assert Event.objects.filter(code="vm.edited").count() == 1


@pytest.mark.parametrize("changes, field", [
    ({"memory_mb": 256}, "memory_mb"),  # under the OS minimum
    ({"memory_mb": 65536}, "memory_mb"),  # more than the largest host
    ({"cpu_sockets": 32}, "cpu_sockets"),  # more vCPUs than the largest host
    ({"name": "db1"}, "name"),  # taken in the data center
    ({"memory_guaranteed_mb": 9000}, "memory_guaranteed_mb"),  # more than the memory
    ({"optimization": "high_performance"}, "console"),  # headless profile with a VNC console
])
def test_bad_input_is_a_400_and_changes_nothing(catalogue, cluster, host, alice, api, changes, field):
    vm = make_vm(cluster, "web1", owner=alice)
    make_vm(cluster, "db1", owner=alice)
    before = _settings(vm)
    response = api.patch(f"/api/v1/vms/{vm.pk}/", changes, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert _settings(vm) == before


def test_keeping_its_own_name_is_no_clash(catalogue, cluster, host, alice, api):
    vm = make_vm(cluster, "web1", owner=alice)
    assert api.patch(f"/api/v1/vms/{vm.pk}/", {"name": "web1"}, format="json").status_code == 200


def test_a_vm_held_by_a_job_is_not_edited(catalogue, cluster, host, alice, api):
    vm = make_vm(cluster, "web1", owner=alice, status=VmStatus.IMAGE_LOCKED, host=host)
    before = _settings(vm)
    response = api.patch(f"/api/v1/vms/{vm.pk}/", {"memory_mb": 4096}, format="json")
    assert response.status_code == 409, response.content
    assert _settings(vm) == before


def test_the_edit_page_saves_through_the_same_rules(client, catalogue, cluster, host, alice):
    vm = make_vm(cluster, "web1", owner=alice)
    client.force_login(alice)
    assert "Edit…" in page_of(client.get(reverse("vms:vm-detail", args=[vm.pk])))
    form = {"name": "web1", "description": "", "memory_mb": 256, "cpu_sockets": 1, "cpu_cores": 1,
            "cpu_threads": 1, "optimization": "server", "console": "vnc", "boot_order": "hd",
            "nics-TOTAL_FORMS": 1, "nics-INITIAL_FORMS": 0, "nics-MIN_NUM_FORMS": 0, "nics-MAX_NUM_FORMS": 8,
            "nics-0-network": "", "nics-0-model": "", "nics-0-mac": ""}
    refused = page_of(client.post(reverse("vms:vm-edit", args=[vm.pk]), form))
    assert "needs at least 512 MiB" in refused
    assert _settings(vm)[2] == 2048
    response = client.post(reverse("vms:vm-edit", args=[vm.pk]), {**form, "memory_mb": 3072})
    assert response.status_code == 302
    assert _settings(vm)[2] == 3072
