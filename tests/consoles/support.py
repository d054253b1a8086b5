"""A portal VM whose domain really runs on the local libvirtd (QEMU, TCG):
the tiny guest, defined straight through hypervisor/ with the console the
portal gives every VM (locked), so console tests need no worker and no
storage domain. Domain names carry the test process's pid."""

from __future__ import annotations

import os
import uuid as uuidlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hypervisor import DiskSpec, DomainSpec, GraphicsSpec, SerialSpec, define_domain, read_host_info, start_domain
from hypervisor.errors import HypervisorError
from inventory.choices import HostStatus
from tests.inventory.factories import ClusterFactory, HostFactory
from tests.vms.factories import OperatingSystemFactory
from vms.choices import VmStatus
from vms.models import Vm

PREFIX = f"pt-console-{os.getpid()}-"


@pytest.fixture
def real_vm(libvirtd: str, guest_disk: Path, tmp_path: Path) -> Iterator[Callable[..., Vm]]:
    """Make a running VM (owner alice unless told) on the local libvirtd; every
    domain made is destroyed and undefined afterwards."""
    import hypervisor

    cluster = ClusterFactory(name=f"console-{os.getpid()}")
    host = HostFactory(name="localhost", cluster=cluster, uri=libvirtd, status=HostStatus.UP)
    info = read_host_info(libvirtd)
    made: list[str] = []

    def make(name: str, *, console: str = "vnc", owner=None, video: str = "vga", windows: bool = False) -> Vm:
        os_type = (OperatingSystemFactory(short_id="win2k22", name="Windows Server 2022", family="windows")
                   if windows else OperatingSystemFactory(short_id="linux-generic", name="Linux"))
        vm = Vm.objects.create(name=name, cluster=cluster, data_center=cluster.data_center, os_type=os_type,
                               memory_mb=256, console=console, status=VmStatus.UP, host=host, owner=owner,
                               uuid=uuidlib.uuid4())
        spec = DomainSpec(
            name=f"{PREFIX}{name}", uuid=str(vm.uuid), memory_mb=256, domain_type=info.domain_type,
            arch=info.cpu_arch, disks=(DiskSpec(str(guest_disk)),),
            graphics=() if console == "none" else (GraphicsSpec(type=console, locked=True),),
            video_model=video if console != "none" else None,
            serials=(SerialSpec(type="pty", log_path=str(tmp_path / f"{name}-serial.log")),),
            smbios_serial=name,
        )
        define_domain(libvirtd, spec)
        made.append(str(vm.uuid))
        start_domain(libvirtd, str(vm.uuid))
        return vm

    yield make
    for uuid in made:
        for step in (hypervisor.destroy_domain, hypervisor.undefine_domain):
            try:
                step(libvirtd, uuid)
            except HypervisorError:
                pass


def serial_log_of(vm: Vm, tmp_path: Path) -> Path:
    return tmp_path / f"{vm.name}-serial.log"
