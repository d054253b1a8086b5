"""Editing a running tiny guest on the real libvirtd (QEMU under TCG), through
the API and the real worker: memory grows by a plugged DIMM and vCPUs are
plugged live, seen in libvirt's live XML and inside the guest; memory beyond
the ceiling its domain was defined with is pending until the next start, then
in the domain XML."""

from __future__ import annotations

import os
import re

import pytest

from tests.vms import test_lifecycle_real as lifecycle_real
from tests.vms.test_lifecycle_real import create_vm, serial_log, succeeded, virsh
from tests.vms.test_snapshots_real import open_console
from tests.plugins.real import wait_for_text
from vms.models import Vm

pytestmark = [pytest.mark.real, pytest.mark.jobs, pytest.mark.django_db(transaction=True),
              pytest.mark.timeout(300)]
world = lifecycle_real.world  # the local libvirtd with a data domain holding the tiny guest


def live_memory_kib(world, vm: Vm) -> int:
    xml = virsh(world["uri"], "dumpxml", str(vm.uuid))
    return int(re.search(r"<memory unit='KiB'>(\d+)</memory>", xml).group(1))


def live_vcpus(world, vm: Vm) -> int:
    return int(virsh(world["uri"], "vcpucount", str(vm.uuid), "--live", "--current").strip())


def test_memory_and_vcpus_change_live_and_more_waits_for_the_next_start(api, world):
    vm = create_vm(api, world, f"edit-{os.getpid()}", cpu_sockets=1)  # 512 MiB, 1 vCPU
    wait_for_text(serial_log(vm), "GUEST READY", timeout=90)
    vm.refresh_from_db()
    assert vm.max_memory_mb == 2048 and vm.max_vcpus >= 2
    console = open_console(world, vm)
    try:
        console.send("")
        assert console.ask("PRESENT", "cat /sys/devices/system/cpu/present") == "0"
        blocks = int(console.ask("BLOCKS", "ls -d /sys/devices/system/memory/memory* | wc -l"))

        response = api.patch(f"/api/v1/vms/{vm.pk}/", {"memory_mb": 768, "cpu_sockets": 2}, format="json")
        succeeded(response)
        vm.refresh_from_db()
        assert (vm.memory_mb, vm.cpu_sockets, vm.next_run) == (768, 2, None)
        assert live_memory_kib(world, vm) == 768 * 1024
        assert live_vcpus(world, vm) == 2
        assert "<memory model='dimm'>" in virsh(world["uri"], "dumpxml", str(vm.uuid))
        # The guest's kernel sees the plugged vCPU and the DIMM's memory blocks.
        assert console.ask("PRESENT", "cat /sys/devices/system/cpu/present") == "0-1"
        # 128 MiB blocks: the 256 MiB DIMM adds two.
        assert int(console.ask("BLOCKS", "ls -d /sys/devices/system/memory/memory* | wc -l")) == blocks + 2
    finally:
        console.close()

    # Beyond the ceiling (4 x 512 MiB): pending, nothing changes on the host.
    response = api.patch(f"/api/v1/vms/{vm.pk}/", {"memory_mb": 3072}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["next_run"]["memory_mb"]["value"] == 3072
    assert live_memory_kib(world, vm) == 768 * 1024

    succeeded(api.post(f"/api/v1/vms/{vm.pk}/poweroff/"))
    succeeded(api.post(f"/api/v1/vms/{vm.pk}/start/"))
    vm.refresh_from_db()
    assert (vm.memory_mb, vm.cpu_sockets, vm.next_run) == (3072, 2, None)
    assert live_memory_kib(world, vm) == 3072 * 1024
    assert "<memory model='dimm'>" not in virsh(world["uri"], "dumpxml", str(vm.uuid))  # a fresh definition
    assert api.get(f"/api/v1/vms/{vm.pk}/").json()["next_run"] is None
