"""Adding, moving, detaching and attaching disks of an existing VM
(vms/services/disks.py, `vms/<id>/disks/`, `disks/`) in the fast lane, on
libvirt's test:/// driver: each change through a job or a claim, each
refusal a clear 4xx that changes nothing."""

import pytest
from django.urls import reverse

import hypervisor
from core.models import Event, Job
from hypervisor import PoolSpec
from inventory.choices import StorageDomainStatus
from inventory.services.storage import storage_pool_name
from tests.inventory.factories import StorageDomainFactory
from tests.support.jobs import run_job as run
from tests.vms.test_disks import client_of, down, url, volume_paths
from tests.vms.test_lifecycle import world  # noqa: F401 (the world fixture)
from tests.vms.test_snapshots import vm  # noqa: F401 (web1, running)
from tests.vms.test_views import grant
from vms.choices import DiskStatus, VmStatus
from vms.models import Vm, VmDisk, VmSnapshot

pytestmark = pytest.mark.django_db

GIB = 1024**3


@pytest.fixture
def data2(world, tmp_path):
    """A second active data domain of the same data center, with its pool on host1."""
    domain = StorageDomainFactory(name="data2", data_center=world["data_center"], path=str(tmp_path / "data2"),
                                  status=StorageDomainStatus.ACTIVE, capacity_bytes=200 * GIB,
                                  available_bytes=100 * GIB)
    host = world["hosts"][0]
    hypervisor.ensure_dir_pool(host.uri, PoolSpec(name=storage_pool_name(domain), path=domain.path))
    yield domain
    hypervisor.remove_pool(host.uri, storage_pool_name(domain))


def job_of(response) -> Job:
    assert response.status_code == 202, response.content
    return Job.objects.get(pk=response.json()["job"]["id"])


# ---- add ----------------------------------------------------------------------

def test_a_disk_is_added_to_a_down_vm_as_a_new_volume(api, vm, world):
    vm = down(vm)
    job = job_of(api.post(url(vm), {"size_gb": 2, "storage_domain": world["domain"].pk}, format="json"))
    assert Vm.objects.get(pk=vm.pk).status == VmStatus.IMAGE_LOCKED
    assert run(job).status == "succeeded"
    first, added = vm.disks.order_by("index")
    assert (added.index, added.size_gb, added.status, added.bootable) == (1, 2, DiskStatus.OK, False)
    assert added.path in volume_paths(vm, world["domain"])
    assert Vm.objects.get(pk=vm.pk).status == VmStatus.DOWN
    assert Event.objects.filter(code="vm.disk_added", message__contains="Disk 2 (2 GiB, empty)").exists()


def test_a_live_add_that_cannot_plug_leaves_no_disk_and_the_vm_running(api, vm, world):
    """(The plug itself is the real lane's: test:/// has no attachDeviceFlags.)"""
    job = job_of(api.post(url(vm), {"size_gb": 1, "storage_domain": world["domain"].pk, "interface": "virtio"},
                          format="json"))
    assert [step["name"] for step in job.steps] == ["Create the volume", "Plug it into the running VM"]
    assert Vm.objects.get(pk=vm.pk).status == VmStatus.UP  # not locked: it keeps running
    assert run(job).status == "failed"
    assert vm.disks.count() == 1 and len(volume_paths(vm, world["domain"])) == 1  # the new volume is gone
    assert Vm.objects.get(pk=vm.pk).status == VmStatus.UP
    assert Event.objects.filter(code="vm.disk_failed", message__contains="Not supported").exists()


def test_adding_refuses_bad_input_a_sata_disk_live_and_a_paused_vm(api, vm, world):
    response = api.post(url(vm), {"size_gb": 1, "storage_domain": world["domain"].pk, "interface": "sata"},
                        format="json")
    assert response.status_code == 409 and "cannot be plugged in live" in response.json()["detail"]
    Vm.objects.filter(pk=vm.pk).update(status=VmStatus.PAUSED)
    response = api.post(url(vm), {"size_gb": 1, "storage_domain": world["domain"].pk}, format="json")
    assert response.status_code == 409 and "only when down" in response.json()["detail"]
    vm = down(vm)
    other_dc = StorageDomainFactory(name="elsewhere", status=StorageDomainStatus.ACTIVE)
    response = api.post(url(vm), {"size_gb": 1, "storage_domain": other_dc.pk}, format="json")
    assert response.status_code == 400 and "is not in data center dc1" in str(response.json())
    response = api.post(url(vm), {"size_gb": 1, "storage_domain": world["domain"].pk, "bootable": True},
                        format="json")
    assert response.status_code == 400 and "only one disk can be bootable" in str(response.json())
    response = api.post(url(vm), {"size_gb": 0, "storage_domain": world["domain"].pk}, format="json")
    assert response.status_code == 400
    assert vm.disks.count() == 1 and not Job.objects.filter(kind="vm.disk_add").exists()
    assert Vm.objects.get(pk=vm.pk).status == VmStatus.DOWN


def test_a_failed_add_leaves_no_disk_and_the_vm_unlocked(api, vm, world):
    vm = down(vm)
    job = job_of(api.post(url(vm), {"size_gb": 1, "storage_domain": world["domain"].pk}, format="json"))
    world["hosts"][0].__class__.objects.update(status="maintenance")  # no SPM host up
    assert run(job).status == "failed"
    assert vm.disks.count() == 1 and Vm.objects.get(pk=vm.pk).status == VmStatus.DOWN
    assert Event.objects.filter(code="vm.disk_failed", message__contains="no SPM host up").exists()


# ---- sizes and backing chain ----------------------------------------------------

def test_the_api_shows_virtual_and_actual_size(api, vm):
    disk = api.get(url(vm)).json()[0]
    assert disk["virtual_size_bytes"] == vm.disks.get().size_gb * GIB
    assert disk["actual_size_bytes"] is not None and disk["backing_chain"] == []


# ---- move -----------------------------------------------------------------------

def test_a_move_starts_a_job_that_locks_the_disk(api, vm, data2):
    """(The copy itself is the real lane's: libvirt's test:/// driver looks a
    copy's source up in the target pool, so it cannot copy across pools.)"""
    vm = down(vm)
    disk = vm.disks.get()
    job = job_of(api.post(url(vm, disk.pk, "move"), {"storage_domain": data2.pk}, format="json"))
    assert (job.kind, job.steps[0]["name"]) == ("vm.disk_move", "Copy to data2")
    assert VmDisk.objects.get(pk=disk.pk).status == DiskStatus.LOCKED
    assert Vm.objects.get(pk=vm.pk).status == VmStatus.IMAGE_LOCKED


def test_a_move_is_refused_without_room_or_to_a_bad_target(api, vm, data2, world):
    vm = down(vm)
    disk = vm.disks.get()
    data2.available_bytes = 10 * 1024**2
    data2.save()
    response = api.post(url(vm, disk.pk, "move"), {"storage_domain": data2.pk}, format="json")
    assert response.status_code == 409
    assert "Storage domain data2 has 10 MiB free" in response.json()["detail"]
    assert "Nothing was written" in response.json()["detail"]
    response = api.post(url(vm, disk.pk, "move"), {"storage_domain": world["domain"].pk}, format="json")
    assert response.status_code == 400 and "already on storage domain data1" in str(response.json())
    other_dc = StorageDomainFactory(name="elsewhere", status=StorageDomainStatus.ACTIVE)
    response = api.post(url(vm, disk.pk, "move"), {"storage_domain": other_dc.pk}, format="json")
    assert response.status_code == 400 and "not in data center dc1" in str(response.json())
    response = api.post(url(vm, disk.pk, "move"), {"storage_domain": 99999}, format="json")
    assert response.status_code == 400
    assert (VmDisk.objects.get(pk=disk.pk).storage_domain, VmDisk.objects.get(pk=disk.pk).status) == (
        world["domain"], DiskStatus.OK)
    assert not Job.objects.filter(kind="vm.disk_move").exists()


def test_a_move_of_a_running_vms_disk_or_with_snapshots_is_409(api, vm, data2):
    disk = vm.disks.get()
    response = api.post(url(vm, disk.pk, "move"), {"storage_domain": data2.pk}, format="json")
    assert response.status_code == 409 and "only when down" in response.json()["detail"]
    vm = down(vm)
    VmSnapshot.objects.create(vm=vm, name="s1", status="ok")
    response = api.post(url(vm, disk.pk, "move"), {"storage_domain": data2.pk}, format="json")
    assert response.status_code == 409 and "Delete the snapshots first" in response.json()["detail"]


def test_a_failed_move_leaves_the_disk_where_it_was_unlocked(api, vm, data2, world):
    vm = down(vm)
    disk = vm.disks.get()
    job = job_of(api.post(url(vm, disk.pk, "move"), {"storage_domain": data2.pk}, format="json"))
    hypervisor.remove_pool(world["hosts"][0].uri, storage_pool_name(data2))  # the target vanished
    assert run(job).status == "failed"
    disk.refresh_from_db()
    assert (disk.storage_domain, disk.status) == (world["domain"], DiskStatus.OK)
    assert disk.path in volume_paths(vm, world["domain"])
    assert Vm.objects.get(pk=vm.pk).status == VmStatus.DOWN
    assert Event.objects.filter(code="vm.disk_failed").exists()
    hypervisor.ensure_dir_pool(world["hosts"][0].uri, PoolSpec(name=storage_pool_name(data2), path=data2.path))


# ---- detach, floating, attach -------------------------------------------------------

def test_a_detached_disk_floats_and_is_attached_to_another_vm(api, vm, world, admin):
    vm = down(vm)
    disk = vm.disks.get()
    response = api.post(url(vm, disk.pk, "detach"))
    assert response.status_code == 200 and response.json()["vm"] is None
    assert response.json()["alias"] == "web1 disk 1"
    assert vm.disks.count() == 0 and Vm.objects.get(pk=vm.pk).status == VmStatus.DOWN
    assert disk.path in volume_paths(vm, world["domain"])  # its data is kept
    assert [d["id"] for d in api.get("/api/v1/disks/").json()] == [disk.pk]

    other = Vm.objects.create(**{f.name: getattr(vm, f.name) for f in Vm._meta.concrete_fields
                                 if f.name not in ("id", "uuid", "name")}, name="web2")
    response = api.post(url(other), {"disk": disk.pk}, format="json")
    assert response.status_code == 200, response.content
    disk.refresh_from_db()
    assert (disk.vm, disk.index, disk.bootable, disk.alias) == (other, 0, True, "")
    assert api.get("/api/v1/disks/").json() == []
    assert Event.objects.filter(code="vm.disk_attached", message__contains="as disk 1").exists()


def test_detach_and_attach_refusals(api, vm, bob):
    disk = vm.disks.get()
    response = api.post(url(vm, disk.pk, "detach"))
    assert response.status_code == 409 and "only when down" in response.json()["detail"]
    vm = down(vm)
    response = api.post(url(vm), {"disk": disk.pk}, format="json")  # attached, not floating
    assert response.status_code == 400 and "No floating disk" in str(response.json())
    assert api.post(url(vm, disk.pk, "detach")).status_code == 200
    assert client_of(bob).get("/api/v1/disks/").json() == []  # not his
    assert client_of(bob).delete(f"/api/v1/disks/{disk.pk}/").status_code == 404


def test_a_floating_disk_is_removed_with_its_volume(api, vm, world):
    vm = down(vm)
    disk = vm.disks.get()
    api.post(url(vm, disk.pk, "detach"))
    job = job_of(api.delete(f"/api/v1/disks/{disk.pk}/"))
    assert run(job).status == "succeeded"
    assert not VmDisk.objects.filter(pk=disk.pk).exists()
    assert disk.path not in volume_paths(vm, world["domain"])


# ---- the VM page and the storage domain page -------------------------------------------

def test_the_vm_page_adds_moves_and_detaches(client, vm, admin, data2, world):
    client.force_login(admin)
    vm = down(vm)
    disk = vm.disks.get()
    page = client.get(reverse("vms:vm-detail", args=[vm.pk])).content.decode()
    for action in ("move", "detach"):
        assert f'data-disk-action="{action}"' in page
    assert 'data-disk-add' in page and "Virtual" in page
    add = reverse("vms:vm-disk-add", args=[vm.pk])
    fields = {"add-allocation": "thin", "add-storage_domain": world["domain"].pk}
    response = client.post(add, {**fields, "add-size_gb": "0"}, follow=True)
    assert "Size (GiB): Ensure this value is greater than or equal to 1." in response.content.decode()
    response = client.post(add, {**fields, "add-size_gb": "1"}, follow=True)
    assert "Add disk 2 to VM web1" in response.content.decode()
    assert run(Job.objects.get(kind="vm.disk_add")).status == "succeeded"
    response = client.post(reverse("vms:vm-disk-action", args=[vm.pk, disk.pk, "move"]),
                           {"storage_domain": "nope"}, follow=True)
    assert "Choose the storage domain to move the disk to." in response.content.decode()
    response = client.post(reverse("vms:vm-disk-action", args=[vm.pk, disk.pk, "move"]),
                           {"storage_domain": data2.pk}, follow=True)
    assert "Move disk 1 of VM web1" in response.content.decode()
    run(Job.objects.get(kind="vm.disk_move"))  # test:/// cannot copy across pools: it fails and unlocks
    response = client.post(reverse("vms:vm-disk-action", args=[vm.pk, disk.pk, "detach"]), follow=True)
    assert "floats as" in response.content.decode()
    domain_page = client.get(reverse("inventory:storagedomain-detail", args=[world["domain"].pk])).content.decode()
    assert "web1 disk 1" in domain_page


def test_the_vm_page_attaches_a_floating_disk(client, vm, admin):
    client.force_login(admin)
    vm = down(vm)
    disk = vm.disks.get()
    client.post(reverse("vms:vm-disk-action", args=[vm.pk, disk.pk, "detach"]))
    page = client.get(reverse("vms:vm-detail", args=[vm.pk])).content.decode()
    assert "data-disk-attach" in page and "web1 disk 1" in page
    response = client.post(reverse("vms:vm-disk-attach", args=[vm.pk]), {"disk": disk.pk}, follow=True)
    assert "was attached" in response.content.decode()
    assert VmDisk.objects.get(pk=disk.pk).vm == vm
    grant_target = Vm.objects.get(pk=vm.pk)
    assert grant_target.disks.count() == 1


def test_a_viewer_gets_no_disk_buttons(client, vm, bob):
    vm = down(vm)
    grant(bob, ["view"], vm)
    client.force_login(bob)
    page = client.get(reverse("vms:vm-detail", args=[vm.pk])).content.decode()
    assert "data-disk-action" not in page and "data-disk-add" not in page


# ---- the permission matrix of the new disk actions: page and API answer alike --------------

def _disk_faces(world, data2):
    """action: (the page's request, the API's request), each given a client and the (down) VM."""
    domain = world["domain"].pk

    def on_disk(action, data=None):
        return lambda c, vm: c.post(reverse("vms:vm-disk-action", args=[vm.pk, vm.disks.get().pk, action]),
                                    data or {}, follow=True)

    def api_disk(suffix, data=None):
        return lambda c, vm: c.post(url(vm, vm.disks.get().pk, suffix), data or {}, format="json")

    return {
        "add": (lambda c, vm: c.post(reverse("vms:vm-disk-add", args=[vm.pk]), {
                    "add-size_gb": 1, "add-allocation": "thin", "add-storage_domain": domain}, follow=True),
                lambda c, vm: c.post(url(vm), {"size_gb": 1, "storage_domain": domain}, format="json")),
        "grow": (on_disk("grow", {"size_gb": 5}),
                 lambda c, vm: c.patch(url(vm, vm.disks.get().pk), {"size_gb": 5}, format="json")),
        "move": (on_disk("move", {"storage_domain": data2.pk}), api_disk("move", {"storage_domain": data2.pk})),
        "detach": (on_disk("detach"), api_disk("detach")),
    }


@pytest.mark.parametrize("action", ["add", "grow", "move", "detach"])
@pytest.mark.parametrize("who", ["owner", "viewer", "disk_manager", "stranger"])
def test_each_disk_action_is_allowed_alike_by_page_and_api(client, vm, world, data2, admin, bob, charlie,
                                                           action, who):
    from tests.vms.test_views import messages_of

    vm = down(vm)
    user = {"owner": admin, "viewer": bob, "disk_manager": bob, "stranger": charlie}[who]
    if who == "viewer":
        grant(bob, ["view"], vm)
    if who == "disk_manager":
        grant(bob, ["view", "disks"], vm)
    expected = {"owner": "allowed", "disk_manager": "allowed", "viewer": "refused", "stranger": "absent"}[who]
    ask_page, ask_api = _disk_faces(world, data2)[action]

    client.force_login(user)
    page = ask_page(client, vm)
    page_says = ("absent" if page.status_code == 404 else
                 "refused" if any(m.startswith("You may not") for m in messages_of(page)) else "allowed")
    # Put the VM back as it was, so the API is asked the same question.
    Job.objects.all().delete()
    VmDisk.objects.filter(vm=None).update(vm=vm, alias="", owner=None, bootable=True)
    VmDisk.objects.filter(vm=vm, index__gt=0).delete()
    VmDisk.objects.update(status=DiskStatus.OK)
    vm = down(vm)
    response = ask_api(client_of(user), vm)
    api_says = {404: "absent", 403: "refused"}.get(response.status_code, "allowed")
    if api_says == "allowed":
        assert response.status_code in (200, 202), response.content
    assert (page_says, api_says) == (expected, expected)
