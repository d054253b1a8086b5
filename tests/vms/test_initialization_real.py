"""First boot on the real libvirtd: a VM given hostname web-7 reads it from
its cloud-init config drive at its first start (the tiny guest prints
"hostname: web-7"); afterwards the drive is gone from the domain's
definition and its volume deleted, and the next start boots without it. The
same for a thin VM from a template of the tiny guest."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from inventory.services.storage import storage_pool_name
from tests.plugins.real import wait_for_text
from tests.vms.test_lifecycle_real import create_vm, serial_log, succeeded, virsh, world  # noqa: F401 (fixture)
from vms.choices import VmStatus
from vms.models import Template, Vm, VmInitialization

pytestmark = [pytest.mark.real, pytest.mark.jobs, pytest.mark.django_db(transaction=True),
              pytest.mark.timeout(300)]


def test_a_vm_named_by_its_config_drive_prints_its_hostname_and_the_drive_is_gone_after(api, world):
    vm = create_vm(api, world, f"init-{os.getpid()}", initialization={
        "hostname": "web-7", "user_name": "alice", "password": "s3cret-pass", "timezone": "Europe/Paris"})
    assert vm.status == VmStatus.UP
    drive = Path(world["domain"].path) / f"vm-{vm.uuid}-firstboot.iso"
    wait_for_text(serial_log(vm), "hostname: web-7", timeout=120)
    log = serial_log(vm).read_text(errors="replace")
    assert f"GUEST READY {vm.name}" in log, "the name it had before reading the drive: its SMBIOS serial"

    initialization = VmInitialization.objects.get(vm=vm)
    assert initialization.applied_at is not None and initialization.drive_path == ""
    assert "<disk type='file' device='cdrom'>" not in virsh(world["uri"], "dumpxml", "--inactive", str(vm.uuid))
    assert not drive.exists()
    assert drive.name not in virsh(world["uri"], "vol-list", storage_pool_name(world["domain"]))

    succeeded(api.post(f"/api/v1/vms/{vm.pk}/poweroff/"))
    serial_log(vm).unlink(missing_ok=True)
    succeeded(api.post(f"/api/v1/vms/{vm.pk}/start/"))
    assert "device='cdrom'" not in virsh(world["uri"], "dumpxml", str(vm.uuid)), "no drive at the next start"
    wait_for_text(serial_log(vm), f"GUEST READY {vm.name}", timeout=120)
    shown = api.get(f"/api/v1/vms/{vm.pk}/").json()["initialization"]
    assert shown["applied_at"] is not None and shown["password_set"] is True and "password" not in shown


def test_a_thin_vm_from_a_template_takes_its_hostname_from_its_config_drive(api, world):
    pid = os.getpid()
    source = create_vm(api, world, f"initsrc-{pid}", start=False)
    succeeded(api.post("/api/v1/templates/", {"vm": source.pk, "name": f"init-tpl-{pid}",
                                              "storage_domain": world["domain"].pk}, format="json"))
    template = Template.objects.get()
    response = api.post("/api/v1/vms/", {
        "name": f"initthin-{pid}", "cluster": world["cluster"].pk, "template": template.pk, "provisioning": "thin",
        "nics": [], "start": True, "initialization": {"hostname": "web-7"}}, format="json")
    succeeded(response)
    vm = Vm.objects.get(pk=response.json()["vm"]["id"])
    wait_for_text(serial_log(vm), "hostname: web-7", timeout=120)
    assert VmInitialization.objects.get(vm=vm).drive_path == ""
    assert "device='cdrom'" not in virsh(world["uri"], "dumpxml", "--inactive", str(vm.uuid))
    assert not (Path(world["domain"].path) / f"vm-{vm.uuid}-firstboot.iso").exists()
