"""Disks of an existing VM on the real libvirtd, through the API and the real
worker: grow (libvirt's test:/// driver cannot resize a volume), add, move to
another storage domain (test:/// cannot copy across pools), detach and attach."""

import os
import subprocess
from pathlib import Path

import pytest

import hypervisor
from core.models import JobStatus
from inventory.choices import StorageDomainType
from inventory.models import StorageDomain
from inventory.services import storage_domain_attach
from inventory.services.storage import storage_pool_name
from tests.jobs.test_worker import wait_for_status
from tests.plugins.real import wait_for_text
from tests.vms.test_lifecycle_real import create_vm, serial_log, succeeded, virsh, world  # noqa: F401
from vms.choices import DiskStatus, VmStatus
from vms.models import Vm

pytestmark = [pytest.mark.real, pytest.mark.jobs, pytest.mark.django_db(transaction=True),
              pytest.mark.timeout(300)]

GIB = 1024**3


def test_a_disk_of_a_down_vm_grows_and_libvirt_sees_the_new_capacity(api, world):
    vm = create_vm(api, world, "grow1", start=False)
    disk = vm.disks.get()
    size = disk.size_gb + 2
    succeeded(api.patch(f"/api/v1/vms/{vm.pk}/disks/{disk.pk}/", {"size_gb": size}, format="json"))
    assert hypervisor.volume_by_path(world["host"].uri, disk.path).capacity_bytes == size * GIB
    disk.refresh_from_db()
    assert (disk.size_gb, disk.status) == (size, DiskStatus.OK)
    assert Vm.objects.get(pk=vm.pk).status == VmStatus.DOWN


@pytest.fixture
def data2(world, admin):
    """A second data domain of the same data center, attached through the real libvirtd."""
    path = world["tmp"] / "data2"
    path.mkdir()
    path.chmod(0o755)
    domain = StorageDomain.objects.create(pk=900000 + os.getpid() % 100000, name=f"data2-{os.getpid()}",
                                          data_center=world["domain"].data_center, path=str(path),
                                          domain_type=StorageDomainType.DATA)
    job = wait_for_status(storage_domain_attach(domain=domain, user=admin), JobStatus.ENDED, timeout=90)
    assert job.status == JobStatus.SUCCEEDED, job.error
    domain.refresh_from_db()
    yield domain
    subprocess.run(["virsh", "-c", world["uri"], "pool-destroy", storage_pool_name(domain)], capture_output=True)
    subprocess.run(["virsh", "-c", world["uri"], "pool-undefine", storage_pool_name(domain)], capture_output=True)


def test_a_disk_added_to_a_down_vm_is_in_its_domain_xml_at_the_next_start(api, world):
    vm = create_vm(api, world, f"add-{os.getpid()}", start=False)
    succeeded(api.post(f"/api/v1/vms/{vm.pk}/disks/", {"size_gb": 1, "storage_domain": world["domain"].pk,
                                                        "allocation": "preallocated"}, format="json"))
    added = vm.disks.get(index=1)
    assert (added.format, added.status) == ("raw", DiskStatus.OK)
    volume = hypervisor.volume_by_path(world["uri"], added.path)
    assert volume.capacity_bytes == GIB and volume.allocation_bytes >= GIB  # preallocated: all of it reserved
    listed = {d["id"]: d for d in api.get(f"/api/v1/vms/{vm.pk}/disks/").json()}
    assert listed[added.pk]["virtual_size_bytes"] == GIB and listed[added.pk]["actual_size_bytes"] >= GIB
    first = listed[vm.disks.get(index=0).pk]
    assert first["actual_size_bytes"] < first["virtual_size_bytes"]  # thin: only what was written
    succeeded(api.post(f"/api/v1/vms/{vm.pk}/start/"))
    xml = virsh(world["uri"], "dumpxml", str(vm.uuid))
    assert added.path in xml and vm.disks.get(index=0).path in xml
    wait_for_text(serial_log(vm), f"GUEST READY {vm.name}", timeout=90)


def test_a_disk_moves_to_another_domain_with_progress_and_the_vm_boots_from_it(api, world, data2):
    vm = create_vm(api, world, f"move-{os.getpid()}", start=False)
    disk = vm.disks.get()
    old_path = disk.path
    job = succeeded(api.post(f"/api/v1/vms/{vm.pk}/disks/{disk.pk}/move/", {"storage_domain": data2.pk},
                             format="json"))
    assert [(s["name"], s["status"], s["progress"]) for s in job.steps] == [
        (f"Copy to {data2.name}", "done", 100), ("Switch to the copy", "done", 100)]
    disk.refresh_from_db()
    assert disk.storage_domain_id == data2.pk and disk.path.startswith(data2.path)
    assert Path(disk.path).is_file() and not Path(old_path).exists()
    succeeded(api.post(f"/api/v1/vms/{vm.pk}/start/"))
    assert disk.path in virsh(world["uri"], "dumpxml", str(vm.uuid))
    wait_for_text(serial_log(vm), f"GUEST READY {vm.name}", timeout=90)


def test_a_detached_disk_boots_another_vm_once_attached(api, world):
    first = create_vm(api, world, f"det-{os.getpid()}", start=False)
    second = create_vm(api, world, f"att-{os.getpid()}", start=False, disks=[])
    disk = first.disks.get()
    response = api.post(f"/api/v1/vms/{first.pk}/disks/{disk.pk}/detach/")
    assert response.status_code == 200 and response.json()["vm"] is None
    assert [d["id"] for d in api.get("/api/v1/disks/").json()] == [disk.pk]
    assert Path(disk.path).is_file()
    response = api.post(f"/api/v1/vms/{second.pk}/disks/", {"disk": disk.pk}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["bootable"] is True
    succeeded(api.post(f"/api/v1/vms/{second.pk}/start/"))
    assert disk.path in virsh(world["uri"], "dumpxml", str(second.uuid))
    wait_for_text(serial_log(second), "GUEST READY", timeout=90)
    assert Vm.objects.get(pk=first.pk).disks.count() == 0


def test_a_virtio_disk_is_plugged_into_a_running_vm(api, world):
    vm = create_vm(api, world, f"hot-{os.getpid()}")
    wait_for_text(serial_log(vm), f"GUEST READY {vm.name}", timeout=90)
    job = succeeded(api.post(f"/api/v1/vms/{vm.pk}/disks/", {"size_gb": 1, "storage_domain": world["domain"].pk,
                                                              "interface": "virtio"}, format="json"))
    assert [step["name"] for step in job.steps] == ["Create the volume", "Plug it into the running VM"]
    added = vm.disks.get(index=1)
    live = virsh(world["uri"], "dumpxml", str(vm.uuid))
    assert added.path in live and "vdb" in live
    assert added.path in virsh(world["uri"], "dumpxml", "--inactive", str(vm.uuid))
    assert Vm.objects.get(pk=vm.pk).status == VmStatus.UP
    assert virsh(world["uri"], "domstate", str(vm.uuid)).strip() == "running"
    response = api.post(f"/api/v1/vms/{vm.pk}/disks/", {"size_gb": 1, "storage_domain": world["domain"].pk,
                                                         "interface": "sata"}, format="json")
    assert response.status_code == 409 and "cannot be plugged in live" in response.json()["detail"]
