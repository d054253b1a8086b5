"""Removing a disk of an existing VM (vms/services/disks.py) and
`vms/<id>/disks/` in the fast lane: the volume goes through libvirt, and each
refusal is a clear 4xx that changes nothing."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

import hypervisor
from core.errors import Conflict
from core.models import Event, Job
from inventory.services.storage import storage_pool_name
from tests.support.jobs import run_job as run
from tests.vms.test_lifecycle import world  # noqa: F401 (the world fixture)
from tests.vms.test_snapshots import vm  # noqa: F401 (web1, running)
from tests.vms.test_views import grant
from vms.choices import DiskStatus, VmStatus
from vms.models import Vm, VmDisk
from vms.services.disks import disk_remove

pytestmark = pytest.mark.django_db


def url(vm, *rest) -> str:
    return "/".join([f"/api/v1/vms/{vm.pk}/disks", *map(str, rest), ""])


def client_of(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def down(vm) -> Vm:
    Vm.objects.filter(pk=vm.pk).update(status=VmStatus.DOWN)
    return Vm.objects.get(pk=vm.pk)


def volume_paths(vm, domain) -> set[str]:
    return {info.path for info in hypervisor.list_volumes(vm.host.uri, storage_pool_name(domain))}


def test_a_disk_of_a_down_vm_is_removed_with_its_volume(vm, admin):
    vm = down(vm)
    disk = vm.disks.get()
    assert disk.path in volume_paths(vm, disk.storage_domain)
    job = disk_remove(disk=disk, user=admin)
    assert Vm.objects.get(pk=vm.pk).status == VmStatus.IMAGE_LOCKED
    assert VmDisk.objects.get(pk=disk.pk).status == DiskStatus.LOCKED
    assert run(job).status == "succeeded"
    assert not VmDisk.objects.filter(pk=disk.pk).exists()
    assert disk.path not in volume_paths(vm, disk.storage_domain)
    assert Vm.objects.get(pk=vm.pk).status == VmStatus.DOWN


def test_a_running_vms_disk_is_not_removed(vm, admin):
    disk = vm.disks.get()
    with pytest.raises(Conflict, match="only when down"):
        disk_remove(disk=disk, user=admin)
    assert VmDisk.objects.get(pk=disk.pk).status == DiskStatus.OK
    assert not Job.objects.filter(kind="vm.disk_remove").exists()


def test_the_api_lists_removes_and_refuses(api, vm, bob, charlie):
    disk = vm.disks.get()
    listed = api.get(url(vm)).json()
    assert [(d["id"], d["path"], d["status"]) for d in listed] == [(disk.pk, disk.path, DiskStatus.OK)]
    assert api.get(url(vm, disk.pk)).json()["size_gb"] == disk.size_gb

    response = api.delete(url(vm, disk.pk))
    assert response.status_code == 409 and "only when down" in response.json()["detail"]
    assert client_of(charlie).get(url(vm)).status_code == 404
    grant(bob, ["view"], vm)
    vm = down(vm)
    response = client_of(bob).delete(url(vm, disk.pk))
    assert response.status_code == 403 and "manage the disks of VM web1" in response.json()["detail"]

    response = api.delete(url(vm, disk.pk))
    assert response.status_code == 202 and response.json()["job"]["kind"] == "vm.disk_remove"
    assert run(Job.objects.get(pk=response.json()["job"]["id"])).status == "succeeded"
    assert api.get(url(vm)).json() == []


def test_a_disk_of_another_vm_is_404(api, vm):
    disk = vm.disks.get()
    assert api.get(f"/api/v1/vms/{vm.pk + 100}/disks/{disk.pk}/").status_code == 404
    other = Vm.objects.create(**{f.name: getattr(vm, f.name) for f in Vm._meta.concrete_fields
                                 if f.name not in ("id", "uuid", "name")}, name="other")
    assert api.delete(url(other, disk.pk)).status_code == 404
    assert VmDisk.objects.filter(pk=disk.pk).exists()


def test_a_failed_removal_unlocks_the_disk_and_the_vm_and_says_why(vm, admin, world):
    vm = down(vm)
    disk = vm.disks.get()
    job = disk_remove(disk=disk, user=admin)
    world["hosts"][0].__class__.objects.update(status="maintenance")  # no SPM host up: the volume cannot be touched
    assert run(job).status == "failed"
    assert VmDisk.objects.get(pk=disk.pk).status == DiskStatus.OK
    assert Vm.objects.get(pk=vm.pk).status == VmStatus.DOWN
    assert Event.objects.filter(code="vm.disk_failed", message__contains="no SPM host up").exists()


def test_the_vm_page_offers_remove_only_for_a_down_vm_and_it_starts_the_job(client, vm, admin):
    client.force_login(admin)
    page = reverse("vms:vm-detail", args=[vm.pk])
    assert 'data-disk-action="remove"' not in client.get(page).content.decode()  # running
    vm = down(vm)
    disk = vm.disks.get()
    assert 'data-disk-action="remove"' in client.get(page).content.decode()
    response = client.post(reverse("vms:vm-disk-action", args=[vm.pk, disk.pk, "remove"]), follow=True)
    assert "Remove disk 1 of VM web1" in response.content.decode()
    assert run(Job.objects.get(kind="vm.disk_remove")).status == "succeeded"
    assert 'data-disk-action="remove"' not in client.get(page).content.decode()


def test_a_shrink_or_the_same_size_is_400_and_changes_nothing(api, vm):
    vm = down(vm)
    vm.disks.update(size_gb=5)  # the refusal is the row's rule: libvirt is not asked
    disk = vm.disks.get()
    for size in (4, 5):
        response = api.patch(url(vm, disk.pk), {"size_gb": size}, format="json")
        assert response.status_code == 400 and "has 5 GiB; it can only grow" in response.json()["detail"]
    assert (Vm.objects.get(pk=vm.pk).status, VmDisk.objects.get(pk=disk.pk).status) == (VmStatus.DOWN, DiskStatus.OK)
    assert not Job.objects.filter(kind="vm.disk_grow").exists()


def test_growing_a_running_vms_disk_is_409(api, vm):
    disk = vm.disks.get()
    response = api.patch(url(vm, disk.pk), {"size_gb": disk.size_gb + 1}, format="json")
    assert response.status_code == 409 and "only when down" in response.json()["detail"]


def test_the_vm_page_grow_refuses_a_shrink_with_a_message(client, vm, admin):
    client.force_login(admin)
    vm = down(vm)
    disk = vm.disks.get()
    assert 'data-disk-action="grow"' in client.get(reverse("vms:vm-detail", args=[vm.pk])).content.decode()
    response = client.post(reverse("vms:vm-disk-action", args=[vm.pk, disk.pk, "grow"]),
                           {"size_gb": disk.size_gb}, follow=True)
    assert "it can only grow" in response.content.decode()
    assert not Job.objects.filter(kind="vm.disk_grow").exists()
