"""Sealing for real (issue 9): virt-sysprep runs in the template job on the
real libvirtd's host, then the sealed copy is inspected with guestfish.

The tiny guest is no OS libguestfs recognises (a busybox initramfs on FAT),
so the inspectable guest is built here: an ext4 file system made from a
Debian-like tree (os-release, dpkg status, fstab, a machine-id, a hostname,
SSH host keys, logs, root's shell history) with ``mkfs.ext4 -d`` (no mounts,
no root), converted to qcow2, uploaded as an image and given to a VM. Each
virt-sysprep or guestfish run boots libguestfs's appliance (~12-15 s under TCG)."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import pytest

from core.models import Event
from tests.inventory.test_images import upload
from tests.vms.test_lifecycle_real import create_vm, succeeded, world  # noqa: F401 (the world fixture)
from tests.vms.test_snapshots_real import seconds
from vms.choices import SealStatus, VmStatus
from vms.models import Template

pytestmark = [pytest.mark.real, pytest.mark.jobs, pytest.mark.django_db(transaction=True),
              pytest.mark.timeout(400)]

GUEST_FILES = {
    "etc/os-release": 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\n'
                      'VERSION="12 (bookworm)"\nID=debian\n',
    "etc/debian_version": "12.5\n",
    "etc/fstab": "/dev/vda / ext4 defaults 0 1\n",
    "etc/machine-id": "0123456789abcdef0123456789abcdef\n",
    "etc/hostname": "golden-source\n",
    "var/lib/dpkg/status": "Package: base-files\nStatus: install ok installed\nVersion: 12.4\n"
                           "Architecture: amd64\n\n",
    "var/log/syslog": "Dec  6 01:00:00 golden-source kernel: booted\n",
    "var/log/apt/history.log": "Start-Date: 2026-12-01\n",
    "root/.bash_history": "cat /etc/shadow\n",
    "bin/sh": "",
}
HOST_KEYS = ("rsa", "ecdsa", "ed25519")
# guestfish: one appliance boot answers every question, one line each.
INSPECTION = """\
filesize /etc/machine-id
cat /etc/hostname
glob-expand /etc/ssh/ssh_host_*
exists /var/log/syslog
exists /var/log/apt/history.log
exists /root/.bash_history
exists /etc/os-release
"""


def libguestfs_env() -> dict[str, str]:
    return {**os.environ, "LIBGUESTFS_BACKEND": "direct", "LIBGUESTFS_BACKEND_SETTINGS": "force_tcg"}


def inspectable_disk(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    for name, text in GUEST_FILES.items():
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        (tree / name).write_text(text)
    (tree / "etc/ssh").mkdir()
    for kind in HOST_KEYS:
        (tree / "etc/ssh" / f"ssh_host_{kind}_key").write_text(f"PRIVATE {kind}\n")
        (tree / "etc/ssh" / f"ssh_host_{kind}_key.pub").write_text(f"ssh-{kind} PUBLIC\n")
    raw = tmp_path / "debian-like.raw"
    with open(raw, "wb") as handle:
        handle.truncate(64 * 1024**2)
    subprocess.run(["mkfs.ext4", "-q", "-L", "root", "-d", str(tree), str(raw)], check=True)
    disk = tmp_path / "debian-like.qcow2"
    subprocess.run(["qemu-img", "convert", "-O", "qcow2", str(raw), str(disk)], check=True)
    return disk


def inspect(path: str) -> list[str]:
    done = subprocess.run(["guestfish", "--ro", "--format=qcow2", "-a", path, "-i"], input=INSPECTION,
                          capture_output=True, text=True, env=libguestfs_env(), timeout=180)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def sha256(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_virt_sysprep_seals_the_copy_and_leaves_the_source_vm_disk_untouched(api, world):
    response = upload(api, inspectable_disk(world["tmp"]), domain=world["domain"], name="debian-like")
    assert response.status_code == 201, response.content
    vm = create_vm(api, world, f"seal-{os.getpid()}", start=False,
                   disks=[{"image": response.json()["id"], "storage_domain": world["domain"].pk}])
    source = vm.disks.get().path
    before = sha256(source)

    job = succeeded(api.post("/api/v1/templates/", {"vm": vm.pk, "name": f"sealed-{os.getpid()}",
                                                    "storage_domain": world["domain"].pk}, format="json"),
                    timeout=300)
    seal_step = next(step for step in job.steps if step["name"] == "Seal")
    print(f"\ntemplate with seal: {seconds(job):.1f} s in all")
    assert (seal_step["status"], seal_step["progress"]) == ("done", 100)
    template = Template.objects.get()
    assert (template.status, template.seal_status, template.sealed) == ("ok", SealStatus.SEALED, True)
    assert 'Performing "ssh-hostkeys" ...' in template.seal_report
    assert "Truncating: /etc/machine-id" in template.seal_report
    assert "Setting the hostname: localhost" in template.seal_report

    # The sealed copy, as libguestfs reads it: machine-id empty, hostname
    # reset, no host keys, logs or history; still the same OS.
    assert inspect(template.disks.get().path) == ["0", "localhost", "", "false", "false", "false", "true"]
    # The source VM's disk: not a byte changed.
    assert sha256(source) == before
    vm.refresh_from_db()
    assert vm.status == VmStatus.DOWN


def test_a_guest_virt_sysprep_cannot_inspect_is_copied_unsealed_with_the_reason(api, world):
    vm = create_vm(api, world, f"noseal-{os.getpid()}", start=False)  # the tiny guest: no OS it knows
    job = succeeded(api.post("/api/v1/templates/", {"vm": vm.pk, "name": f"unsealed-{os.getpid()}",
                                                    "storage_domain": world["domain"].pk, "seal": True},
                             format="json"), timeout=300)
    print(f"\ntemplate of an uninspectable guest: {seconds(job):.1f} s in all")
    template = Template.objects.get()
    assert (template.status, template.seal_status, template.sealed) == ("ok", SealStatus.UNSEALED, False)
    assert "found no operating system" in template.seal_message
    assert Event.objects.filter(code="template.unsealed", message__contains="copied unsealed").exists()
    shown = api.get(f"/api/v1/templates/{template.pk}/").json()
    assert shown["seal_status"] == "unsealed" and "found no operating system" in shown["seal_message"]
