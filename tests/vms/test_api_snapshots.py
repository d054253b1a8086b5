"""`vms/<id>/snapshots/` in the fast lane: the tree, 202 + job for each action,
and each refusal a clear 4xx that changes nothing."""

import pytest
from rest_framework.test import APIClient

from core.models import Job
from tests.support.jobs import run_job as run
from tests.vms.test_lifecycle import world  # noqa: F401 (the world fixture)
from tests.vms.test_snapshots import vm  # noqa: F401 (web1, running)
from tests.vms.test_views import grant
from vms.choices import SnapshotStatus, VmStatus
from vms.models import Vm, VmSnapshot

pytestmark = pytest.mark.django_db


def url(vm, *rest) -> str:
    return "/".join([f"/api/v1/vms/{vm.pk}/snapshots", *map(str, rest), ""])


def client_of(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def take(api, vm, **data) -> dict:
    response = api.post(url(vm), data, format="json")
    assert response.status_code == 202, response.content
    assert run(Job.objects.get(pk=response.json()["job"]["id"])).status == "succeeded"
    return response.json()["snapshot"]


def test_it_takes_lists_as_a_tree_restores_and_deletes(api, vm):
    first = take(api, vm, description="clean install")
    assert (first["status"], first["depth"]) == (SnapshotStatus.LOCKED, 1)  # as the 202 found it
    second = take(api, vm)
    listed = api.get(url(vm)).json()
    assert [(s["id"], s["parent"], s["depth"], s["has_memory"]) for s in listed] == [
        (first["id"], None, 1, True), (second["id"], first["id"], 2, True)]
    assert listed[0]["description"] == "clean install" and listed[0]["status"] == SnapshotStatus.OK

    response = api.post(url(vm, first["id"], "restore"))
    assert response.status_code == 202 and response.json()["job"]["kind"] == "vm.snapshot_restore"
    assert run(Job.objects.get(pk=response.json()["job"]["id"])).status == "succeeded"
    assert Vm.objects.get().status == VmStatus.UP

    response = api.delete(url(vm, first["id"]))
    assert response.status_code == 202 and response.json()["job"]["kind"] == "vm.snapshot_delete"
    run(Job.objects.get(pk=response.json()["job"]["id"]))
    assert [(s["id"], s["parent"]) for s in api.get(url(vm)).json()] == [(second["id"], None)]


def test_a_vm_that_does_not_exist_or_is_not_visible_is_404(api, vm, charlie):
    assert api.post(f"/api/v1/vms/{vm.pk + 100}/snapshots/", {}, format="json").status_code == 404
    assert client_of(charlie).post(url(vm), {}, format="json").status_code == 404
    assert client_of(charlie).get(url(vm)).status_code == 404
    assert not VmSnapshot.objects.exists()


def test_a_viewer_sees_the_snapshots_but_may_not_take_them_and_the_granted_may(api, vm, bob, charlie):
    snapshot = take(api, vm)
    grant(bob, ["view"], vm)
    viewer = client_of(bob)
    assert [s["id"] for s in viewer.get(url(vm)).json()] == [snapshot["id"]]
    response = viewer.post(url(vm), {}, format="json")
    assert response.status_code == 403 and "manage the snapshots of VM web1" in response.json()["detail"]
    assert viewer.post(url(vm, snapshot["id"], "restore")).status_code == 403
    assert viewer.delete(url(vm, snapshot["id"])).status_code == 403
    grant(charlie, ["view", "snapshots"], vm)
    take(client_of(charlie), vm)


def test_memory_for_a_vm_that_is_down_is_400_and_a_full_domain_409(api, vm, world):
    Vm.objects.filter(pk=vm.pk).update(status=VmStatus.DOWN)
    response = api.post(url(vm), {"include_memory": True}, format="json")
    assert response.status_code == 400 and "no memory to save" in response.json()["detail"]
    Vm.objects.filter(pk=vm.pk).update(status=VmStatus.UP)
    world["domain"].__class__.objects.update(available_bytes=1024**2)
    response = api.post(url(vm), {}, format="json")
    assert response.status_code == 409 and "Nothing was written" in response.json()["detail"]
    assert not VmSnapshot.objects.exists() and not Job.objects.filter(kind__startswith="vm.snapshot").exists()


def test_restore_while_another_job_runs_is_409(api, vm):
    snapshot = take(api, vm)
    assert api.post(f"/api/v1/vms/{vm.pk}/suspend/").status_code == 202
    response = api.post(url(vm, snapshot["id"], "restore"))
    assert response.status_code == 409 and "busy with another job" in response.json()["detail"]
    assert VmSnapshot.objects.get().status == SnapshotStatus.OK
