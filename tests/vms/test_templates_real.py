"""A template made from the tiny guest's VM on the real libvirtd, through
the API and the real worker: its disk is a standalone qcow2 copy."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hypervisor.qemu_img import image_info
from tests.vms.test_lifecycle_real import create_vm, succeeded, world  # noqa: F401 (the world fixture)
from tests.vms.test_snapshots_real import seconds
from vms.choices import VmStatus
from vms.models import Template

pytestmark = [pytest.mark.real, pytest.mark.jobs, pytest.mark.django_db(transaction=True),
              pytest.mark.timeout(300)]


def test_a_template_of_a_down_vm_is_an_independent_qcow2_copy_and_delete_removes_it(api, world):
    vm = create_vm(api, world, f"tpl-{os.getpid()}", start=False)
    source = vm.disks.get().path
    job = succeeded(api.post("/api/v1/templates/", {"vm": vm.pk, "name": f"golden-{os.getpid()}",
                                                    "storage_domain": world["domain"].pk}, format="json"))
    print(f"\ntemplate copy of the tiny guest: {seconds(job):.2f} s")
    template = Template.objects.get()
    disk = template.disks.get()
    assert (template.status, disk.status) == ("ok", "ok")
    assert disk.path != source and disk.path.startswith(world["domain"].path)
    info = image_info(disk.path)
    assert (info.format, info.backing_file) == ("qcow2", None)
    assert info.virtual_size_bytes == image_info(source).virtual_size_bytes
    vm.refresh_from_db()
    assert vm.status == VmStatus.DOWN

    succeeded(api.delete(f"/api/v1/templates/{template.pk}/"))
    assert not Path(disk.path).exists() and Path(source).is_file()
    assert not Template.objects.exists()
