"""VMs on the real libvirtd, through the API and the real worker: the tiny
guest image uploaded, a VM started from a copy of it, then shut down, paused,
run once from an ISO and deleted; and state changes made with virsh outside
the portal seen through the host watcher's lifecycle events."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from core.models import Event, Job, JobStatus
from inventory.choices import StorageDomainStatus, StorageDomainType
from inventory.models import Host, StorageDomain
from inventory.services import host_refresh, storage_domain_attach
from inventory.services.storage import storage_pool_name
from tests.hypervisor.test_qemu_img import tiny_iso
from tests.inventory.factories import ClusterFactory, DataCenterFactory, HostFactory
from tests.inventory.test_images import upload
from tests.jobs.test_worker import wait_for_status
from tests.plugins.real import wait_for_text
from vms.choices import VmStatus
from vms.models import Vm
from vms.policy import serial_log_path
from vms.services.catalog import operating_systems_import

pytestmark = [pytest.mark.real, pytest.mark.jobs, pytest.mark.django_db(transaction=True),
              pytest.mark.timeout(300)]

def virsh(uri: str, *args: str) -> str:
    return subprocess.run(["virsh", "-c", uri, *args], capture_output=True, text=True, check=True,
                          timeout=60).stdout


def job_of(response) -> Job:
    assert response.status_code == 202, response.content
    return Job.objects.get(pk=response.json()["job"]["id"])


def succeeded(response, timeout: float = 120) -> Job:
    job = wait_for_status(job_of(response), JobStatus.ENDED, timeout=timeout)
    assert job.status == JobStatus.SUCCEEDED, job.error
    return job


@pytest.fixture
def world(libvirtd, worker, admin, api, guest_image, tmp_path):
    """The local libvirtd as the only (SPM) host of a data center with an
    attached data domain holding the uploaded tiny guest image."""
    operating_systems_import(roots=[])
    data_center = DataCenterFactory(name="real-dc")
    cluster = ClusterFactory(name="real-cluster", data_center=data_center, shutdown_timeout_seconds=4)
    host = HostFactory(name="localhost", uri=libvirtd, cluster=cluster)
    refreshed = wait_for_status(host_refresh(host=host, user=admin), JobStatus.ENDED, timeout=90)
    assert refreshed.status == JobStatus.SUCCEEDED, refreshed.error
    path = tmp_path / "data"
    path.mkdir()
    path.chmod(0o755)
    # An id of its own: the pool is named after it, and a portal running on this
    # machine (make run) has pools of its own on the same libvirtd.
    domain = StorageDomain.objects.create(pk=800000 + os.getpid() % 100000, name=f"data-{os.getpid()}",
                                          data_center=data_center, path=str(path), domain_type=StorageDomainType.DATA)
    job = wait_for_status(storage_domain_attach(domain=domain, user=admin), JobStatus.ENDED, timeout=90)
    assert job.status == JobStatus.SUCCEEDED, job.error
    domain.refresh_from_db()
    assert domain.status == StorageDomainStatus.ACTIVE
    response = upload(api, guest_image, domain=domain, name="tiny-guest")
    assert response.status_code == 201, response.content
    yield {"cluster": cluster, "host": Host.objects.get(pk=host.pk), "domain": domain,
           "image": response.json()["id"], "uri": libvirtd, "tmp": tmp_path}
    for vm in Vm.objects.all():
        subprocess.run(["virsh", "-c", libvirtd, "destroy", str(vm.uuid)], capture_output=True)
        subprocess.run(["virsh", "-c", libvirtd, "undefine", str(vm.uuid)], capture_output=True)
    for pool in (storage_pool_name(domain), f"{storage_pool_name(domain)}-images"):
        subprocess.run(["virsh", "-c", libvirtd, "pool-destroy", pool], capture_output=True)
        subprocess.run(["virsh", "-c", libvirtd, "pool-undefine", pool], capture_output=True)


def create_vm(api, world, name: str, *, start: bool = True, **extra) -> Vm:
    body = {
        "name": name, "cluster": world["cluster"].pk, "os_type": "linux-generic", "memory_mb": 512,
        "memory_guaranteed_mb": 512, "console": "vnc",
        "disks": [{"image": world["image"], "storage_domain": world["domain"].pk}], "start": start,
        **extra,
    }
    response = api.post("/api/v1/vms/", body, format="json")
    succeeded(response)
    return Vm.objects.get(pk=response.json()["vm"]["id"])


def serial_log(vm: Vm) -> Path:
    return Path(serial_log_path(str(vm.uuid)))


def test_a_vm_created_from_the_uploaded_image_boots_and_names_itself(api, world):
    vm = create_vm(api, world, f"boot-{os.getpid()}")
    assert vm.status == VmStatus.UP and vm.host_id == world["host"].pk
    disk = vm.disks.get()
    assert disk.status == "ok" and Path(disk.path).is_file()
    assert disk.path.startswith(world["domain"].path)
    wait_for_text(serial_log(vm), f"GUEST READY {vm.name}", timeout=90)
    assert api.get(f"/api/v1/vms/{vm.pk}/").json()["status"] == "up"
    screen = api.get(f"/api/v1/vms/{vm.pk}/screenshot.png")
    assert screen.status_code == 200 and screen["Content-Type"] == "image/png"
    assert screen.content.startswith(b"\x89PNG")


def test_shutdown_falls_back_to_poweroff_on_a_guest_that_ignores_acpi(api, world):
    vm = create_vm(api, world, f"acpi-{os.getpid()}")
    wait_for_text(serial_log(vm), "GUEST READY", timeout=90)
    job = succeeded(api.post(f"/api/v1/vms/{vm.pk}/shutdown/"))
    vm.refresh_from_db()
    assert vm.status == VmStatus.DOWN
    assert virsh(world["uri"], "domstate", str(vm.uuid)).strip() == "shut off"
    fallback = Event.objects.get(code="vm.shutdown_timeout", job=job)
    assert "did not shut down within 4 s; it was powered off" in fallback.message


def test_suspend_and_resume(api, world):
    vm = create_vm(api, world, f"pause-{os.getpid()}")
    succeeded(api.post(f"/api/v1/vms/{vm.pk}/suspend/"))
    assert virsh(world["uri"], "domstate", str(vm.uuid)).strip() == "paused"
    assert Vm.objects.get(pk=vm.pk).status == VmStatus.PAUSED
    assert api.post(f"/api/v1/vms/{vm.pk}/suspend/").status_code == 409
    succeeded(api.post(f"/api/v1/vms/{vm.pk}/resume/"))
    assert virsh(world["uri"], "domstate", str(vm.uuid)).strip() == "running"
    assert Vm.objects.get(pk=vm.pk).status == VmStatus.UP


def test_delete_removes_the_disk_files_and_the_definition(api, world):
    vm = create_vm(api, world, f"delete-{os.getpid()}", start=False)
    path = Path(vm.disks.get().path)
    assert path.is_file()
    succeeded(api.delete(f"/api/v1/vms/{vm.pk}/"))
    assert not path.exists()
    assert not Vm.objects.filter(pk=vm.pk).exists()
    assert str(vm.uuid) not in virsh(world["uri"], "list", "--all", "--uuid")


def test_run_once_from_an_iso_leaves_the_definition_unchanged(api, world):
    iso = upload(api, tiny_iso(world["tmp"] / "boot.iso"), domain=world["domain"], name="boot.iso",
                 content="iso")
    assert iso.status_code == 201, iso.content
    vm = create_vm(api, world, f"once-{os.getpid()}", start=False)
    before = virsh(world["uri"], "dumpxml", "--inactive", str(vm.uuid))
    succeeded(api.post(f"/api/v1/vms/{vm.pk}/run-once/",
                       {"boot_device": "cdrom", "iso": iso.json()["id"], "boot_menu": True, "stateless": True},
                       format="json"))
    live = virsh(world["uri"], "dumpxml", str(vm.uuid))
    assert "boot.iso" in live or iso.json()["id"] and "cdrom" in live
    assert "stateless" in live  # the disk is the throwaway overlay
    assert virsh(world["uri"], "dumpxml", "--inactive", str(vm.uuid)) == before
    overlay = Vm.objects.get(pk=vm.pk).run_once["overlays"][0]
    succeeded(api.post(f"/api/v1/vms/{vm.pk}/poweroff/"))
    assert virsh(world["uri"], "dumpxml", "--inactive", str(vm.uuid)) == before
    assert not Path(overlay).exists()
    assert Vm.objects.get(pk=vm.pk).run_once == {}


def test_a_state_change_made_with_virsh_shows_in_the_api_within_a_second(api, world, watcher):
    vm = create_vm(api, world, f"outside-{os.getpid()}")
    deadline = time.monotonic() + 10
    while not watcher.listeners and time.monotonic() < deadline:
        time.sleep(0.05)
    assert watcher.listeners, "the watcher listens to the host's lifecycle events"
    for command, status in (("suspend", "paused"), ("resume", "up"), ("destroy", "down")):
        virsh(world["uri"], command, str(vm.uuid))
        changed_at = time.monotonic()
        while api.get(f"/api/v1/vms/{vm.pk}/").json()["status"] != status:
            assert time.monotonic() - changed_at < 1.0, f"still not {status} 1 s after virsh {command}"
            time.sleep(0.02)
