"""Templates from other hypervisors' disks on the real libvirtd, through the
API and the real worker: the tiny guest converted with qemu-img to vmdk, vdi
and vpc (VHD), each uploaded (its format detected from its content, also
under a misleading name), made into a template whose disk is a standalone
qcow2 of the same virtual size; one of them boots. A vhdx, which libvirt 9.0
reads as raw bytes, is refused before anything is written."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

import hypervisor
from core.models import Job, JobStatus
from hypervisor import DiskSpec, DomainSpec, GraphicsSpec, SerialSpec
from hypervisor.qemu_img import image_info
from inventory.models import Image
from tests.inventory.test_images import upload
from tests.plugins.real import wait_for_text
from tests.vms.test_lifecycle_real import create_vm, serial_log, succeeded, world  # noqa: F401 (fixture)
from tests.vms.test_snapshots_real import seconds
from vms.models import Template

pytestmark = [pytest.mark.real, pytest.mark.jobs, pytest.mark.django_db(transaction=True),
              pytest.mark.timeout(600)]

MIB = 1024**2
DATA_MIB = 1024
# qemu-img's name for each format, and the file name the upload is given
# (the vmdk deliberately named .qcow2: the name is never believed).
CONVERTED = {"vmdk": "guest.qcow2", "vdi": "guest.vdi", "vpc": "guest.vhd"}


def convert(source: Path, fmt: str, target: Path) -> Path:
    subprocess.run(["qemu-img", "convert", "-O", fmt, str(source), str(target)], check=True, timeout=120)
    return target


def make_template(api, world, image_id: int, name: str) -> Job:
    return succeeded(api.post("/api/v1/templates/", {
        "image": image_id, "name": name, "os_type": "linux-generic", "storage_domain": world["domain"].pk,
    }, format="json"), timeout=300)


def boot_disk(uri: str, path: str, tmp: Path, hostname: str) -> str:
    """Boot a throwaway domain (named after this process) from ``path`` to its READY line."""
    info = hypervisor.read_host_info(uri)
    log = tmp / f"{hostname}.log"
    spec = DomainSpec(name=hostname, memory_mb=256, domain_type=info.domain_type, arch=info.cpu_arch,
                      disks=(DiskSpec(path, format="qcow2"),), graphics=(GraphicsSpec(type="vnc", listen="127.0.0.1"),),
                      serials=(SerialSpec(type="file", path=str(log)),), smbios_serial=hostname)
    domain_uuid = hypervisor.define_domain(uri, spec)
    try:
        hypervisor.start_domain(uri, domain_uuid)
        return wait_for_text(log, f"GUEST READY {hostname}", timeout=120)
    finally:
        for step in (hypervisor.destroy_domain, hypervisor.undefine_domain):
            try:
                step(uri, domain_uuid)
            except hypervisor.HypervisorError:
                pass


def test_vmdk_vdi_and_vhd_uploads_become_qcow2_templates_and_one_boots(api, world, guest_image, tmp_path):
    virtual = image_info(guest_image).virtual_size_bytes
    made = {}
    for fmt, file_name in CONVERTED.items():
        path = convert(guest_image, fmt, tmp_path / file_name)
        response = upload(api, path, domain=world["domain"], name=f"guest-{fmt}")
        assert response.status_code == 201, response.content
        assert response.json()["format"] == fmt  # from the content, not the name
        image = Image.objects.get(pk=response.json()["id"])
        job = make_template(api, world, image.pk, f"from-{fmt}-{os.getpid()}")
        print(f"\ntemplate from a {fmt} of the tiny guest: {seconds(job):.2f} s")
        template = Template.objects.get(created_from_image=image)
        disk = template.disks.get()
        assert (template.status, disk.status, disk.format) == ("ok", "ok", "qcow2")
        info = image_info(disk.path)
        assert (info.format, info.backing_file) == ("qcow2", None)
        # The image's size as detected at upload (a VHD's is rounded up to its geometry).
        assert info.virtual_size_bytes == image.virtual_size_bytes
        assert image.virtual_size_bytes == virtual or fmt == "vpc"
        assert subprocess.run(["qemu-img", "compare", "-q", str(guest_image), disk.path]).returncode == 0
        assert image_info(image.path).format == fmt  # the image is left as it was
        made[fmt] = disk.path
    assert "GUEST READY" in boot_disk(world["uri"], made["vmdk"], tmp_path, f"tplimp-{os.getpid()}")


def test_a_vm_from_an_uploaded_vdi_is_converted_by_the_host_and_boots(api, world, guest_image, tmp_path):
    path = convert(guest_image, "vdi", tmp_path / "guest.vdi")
    response = upload(api, path, domain=world["domain"], name="guest-vdi")
    assert response.status_code == 201 and response.json()["format"] == "vdi", response.content
    vm = create_vm(api, world, f"fromvdi-{os.getpid()}", disks=[
        {"image": response.json()["id"], "storage_domain": world["domain"].pk}])
    assert image_info(vm.disks.get().path).format == "qcow2"
    wait_for_text(serial_log(vm), f"GUEST READY {vm.name}", timeout=120)


def test_the_conversion_s_progress_is_seen_on_the_job(api, world, tmp_path):
    """A 1 GiB vdi of incompressible data, placed among the domain's images
    as an upload leaves it: the job's copy step shows progress midway (the
    step's progress is saved at most twice a second)."""
    raw = tmp_path / "data.img"
    with raw.open("wb") as out:
        for _ in range(DATA_MIB):
            out.write(os.urandom(MIB))
    images_dir = Path(world["domain"].path) / "images"
    images_dir.mkdir(exist_ok=True)
    placed = convert(raw, "vdi", images_dir / f"data-{os.getpid()}.vdi")
    raw.unlink()
    image = Image.objects.create(name="data", storage_domain=world["domain"], content="disk", format="vdi",
                                 status="ok", path=str(placed), virtual_size_bytes=DATA_MIB * MIB,
                                 actual_size_bytes=placed.stat().st_blocks * 512)
    response = api.post("/api/v1/templates/", {"image": image.pk, "name": f"data-{os.getpid()}",
                                               "os_type": "linux-generic", "storage_domain": world["domain"].pk},
                        format="json")
    assert response.status_code == 202, response.content
    job = Job.objects.get(pk=response.json()["job"]["id"])
    seen = set()
    deadline = time.monotonic() + 300
    while job.status not in JobStatus.ENDED and time.monotonic() < deadline:
        job.refresh_from_db()
        seen.add(job.steps[0]["progress"])
        time.sleep(0.1)
    assert job.status == JobStatus.SUCCEEDED, job.error
    print(f"\nconversion of a {DATA_MIB} MiB vdi: {seconds(job):.2f} s, step progress seen: {sorted(seen)}")
    if seconds(job) > 2:  # the step's progress is saved at most twice a second: a faster copy shows no middle
        assert any(0 < percent < 100 for percent in seen), seen
    assert image_info(Template.objects.get().disks.get().path).virtual_size_bytes == DATA_MIB * MIB


def test_a_vhdx_is_refused_before_anything_is_written(api, world, guest_image, tmp_path):
    path = convert(guest_image, "vhdx", tmp_path / "guest.vhdx")
    response = upload(api, path, domain=world["domain"], name="guest-vhdx")
    assert response.status_code == 201 and response.json()["format"] == "vhdx", response.content
    answer = api.post("/api/v1/templates/", {"image": response.json()["id"], "name": "nope",
                                             "os_type": "linux-generic", "storage_domain": world["domain"].pk},
                      format="json")
    assert answer.status_code == 400 and "cannot read" in answer.json()["image"][0]
    assert not Template.objects.exists()
