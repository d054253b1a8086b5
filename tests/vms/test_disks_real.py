"""Growing a disk on the real libvirtd, through the API and the real worker
(libvirt's test:/// driver cannot resize a volume)."""

import pytest

import hypervisor
from tests.vms.test_lifecycle_real import create_vm, succeeded, world  # noqa: F401
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
