"""VMs from a template of the tiny guest on the real libvirtd, through the
API and the real worker: a thin VM is an overlay on the template's disk and
boots naming itself (its own name, not the template VM's: the guest reads
the SMBIOS serial each VM's definition carries); a clone is a standalone
copy that keeps booting after the template is deleted; the template a thin
VM still uses cannot be deleted (409 listing it)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from hypervisor.qemu_img import image_info
from tests.plugins.real import wait_for_text
from tests.vms.test_lifecycle_real import create_vm, serial_log, succeeded, world  # noqa: F401 (world fixture)
from tests.vms.test_snapshots_real import seconds
from vms.choices import VmStatus
from vms.models import Template, Vm

pytestmark = [pytest.mark.real, pytest.mark.jobs, pytest.mark.django_db(transaction=True),
              pytest.mark.timeout(400)]


def from_template(api, world, name: str, template: Template, **extra) -> tuple[Vm, float]:
    response = api.post("/api/v1/vms/", {"name": name, "cluster": world["cluster"].pk, "template": template.pk,
                                         "nics": [], "start": True, **extra}, format="json")
    job = succeeded(response)
    return Vm.objects.get(pk=response.json()["vm"]["id"]), seconds(job)


def wait_for_new_text(path: Path, before: str, text: str, timeout: float) -> None:
    """``text`` printed again since the log read ``before`` (the log is appended to, or started anew)."""
    deadline = time.monotonic() + timeout
    while True:
        content = path.read_text(errors="replace")
        fresh = content[len(before):] if content.startswith(before) else content
        if text in fresh:
            return
        assert time.monotonic() < deadline, f"{text!r} not printed again in {path}: {fresh[-2000:]}"
        time.sleep(0.5)


def test_thin_and_clone_vms_from_the_tiny_guests_template(api, world):
    pid = os.getpid()
    source = create_vm(api, world, f"tplsrc-{pid}", start=False)
    succeeded(api.post("/api/v1/templates/", {"vm": source.pk, "name": f"tiny-{pid}",
                                              "storage_domain": world["domain"].pk}, format="json"))
    template = Template.objects.get()
    template_disk = template.disks.get()

    thin, thin_seconds = from_template(api, world, f"thin-{pid}", template, provisioning="thin")
    clone, clone_seconds = from_template(api, world, f"clone-{pid}", template, provisioning="clone")
    print(f"\nfrom the template, up: thin {thin_seconds:.2f} s, clone {clone_seconds:.2f} s")
    for vm in (thin, clone):
        assert (vm.status, vm.template_id, vm.template_version) == (VmStatus.UP, template.pk, 1)
        wait_for_text(serial_log(vm), f"GUEST READY {vm.name}", timeout=120)
    assert f"GUEST READY {source.name}" not in serial_log(thin).read_text(errors="replace")

    thin_info = image_info(thin.disks.get().path)
    assert (thin_info.format, thin_info.backing_file) == ("qcow2", template_disk.path)
    clone_info = image_info(clone.disks.get().path)
    assert (clone_info.format, clone_info.backing_file) == ("qcow2", None)

    refused = api.delete(f"/api/v1/templates/{template.pk}/")
    assert refused.status_code == 409, refused.content
    assert refused.json()["vms"] == [{"id": thin.pk, "name": thin.name}]
    assert Path(template_disk.path).is_file()

    succeeded(api.post(f"/api/v1/vms/{thin.pk}/poweroff/"))
    succeeded(api.delete(f"/api/v1/vms/{thin.pk}/"))
    succeeded(api.delete(f"/api/v1/templates/{template.pk}/"))
    assert not Path(template_disk.path).exists() and not Template.objects.exists()

    # The clone never needed the template: it boots again without it.
    succeeded(api.post(f"/api/v1/vms/{clone.pk}/poweroff/"))
    before = serial_log(clone).read_text(errors="replace")
    succeeded(api.post(f"/api/v1/vms/{clone.pk}/start/"))
    wait_for_new_text(serial_log(clone), before, f"GUEST READY {clone.name}", timeout=120)
    clone.refresh_from_db()
    assert (clone.status, clone.template_id, clone.template_version) == (VmStatus.UP, None, 1)
