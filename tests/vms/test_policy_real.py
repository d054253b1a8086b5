"""vms.policy on the real host: what each profile produces defines, starts and boots on QEMU.

The four golden plans of test_policy.py, shrunk to a tiny VM (128 MiB: too
little for a memory ceiling, vms.policy leaves it out; at most 2 vCPUs with
room for twice that; no NICs: the host has no active network), booting an overlay of the test
guest image, placed with the host's own facts (domain type, NUMA cells). The one
change to the policy's spec: the first serial port logs to a file, where the
guest says it is ready.
"""

from __future__ import annotations

import dataclasses
import subprocess
import uuid as uuidlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hypervisor import (
    Conflict,
    CpuTopology,
    DomainNotFound,
    define_domain,
    destroy_domain,
    domain_state,
    SerialSpec,
    domain_xml,
    list_domains,
    parse_domain_xml,
    read_host_info,
    start_domain,
    undefine_domain,
)
from tests.plugins.real import wait_for_text
from tests.vms.test_policy import GOLDEN_CASES
from vms.policy import HostTraits, domain_spec_for

pytestmark = pytest.mark.real

PREFIX = "pt-test-policy-"  # every domain these tests make; leftovers are removed
BOOT_TIMEOUT_S = 90


def remove_domain(uri: str, uuid: str) -> None:
    for step in (destroy_domain, undefine_domain):
        try:
            step(uri, uuid)
        except (Conflict, DomainNotFound):
            pass  # already off / already gone


@pytest.fixture
def new_uuid(libvirtd: str) -> Iterator[Callable[[], str]]:
    """UUIDs for this test's domains: all destroyed and undefined afterwards, pass or fail."""
    for leftover in list_domains(libvirtd):
        if leftover.name.startswith(PREFIX):
            remove_domain(libvirtd, leftover.uuid)
    made: list[str] = []

    def new() -> str:
        made.append(str(uuidlib.uuid4()))
        return made[-1]

    yield new
    existing = {domain.uuid for domain in list_domains(libvirtd)}
    for uuid in made:
        if uuid in existing:
            remove_domain(libvirtd, uuid)


def empty_qcow2(path: Path) -> str:
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(path), "16M"], check=True)
    return str(path)


@pytest.mark.parametrize("case", sorted(GOLDEN_CASES))
def test_it_defines_starts_and_boots_each_profile_on_the_real_host(case, libvirtd, new_uuid, guest_disk, tmp_path):
    info = read_host_info(libvirtd)
    host = HostTraits(domain_type=info.domain_type, numa_cells=info.numa_cells)
    golden_plan, _ = GOLDEN_CASES[case]
    boot_disk, *others = golden_plan.disks
    topology = CpuTopology(cores=min(2, info.cpu_total))
    plan = dataclasses.replace(
        golden_plan,
        name=f"{PREFIX}{case}-{uuidlib.uuid4().hex[:8]}",
        uuid=new_uuid(),
        memory_mb=128,
        max_vcpus=2 * topology.total if golden_plan.max_vcpus else None,
        topology=topology,
        disks=(
            dataclasses.replace(boot_disk, path=str(guest_disk), format="qcow2"),
            *(
                dataclasses.replace(d, path=empty_qcow2(tmp_path / f"data{i}.qcow2"), format="qcow2")
                for i, d in enumerate(others)
            ),
        ),
        nics=(),
        smbios_serial=case.replace("_", "-"),  # the guest's hostname
    )
    serial_log = tmp_path / "serial.log"
    spec = dataclasses.replace(domain_spec_for(plan, host), serials=(SerialSpec("file", str(serial_log)),))

    uuid = define_domain(libvirtd, spec)
    back = parse_domain_xml(domain_xml(libvirtd, uuid))
    start_domain(libvirtd, uuid)

    # libvirt names the defaults it chose: the machine type, and the CPU model
    # where the spec left it to the hypervisor (custom qemu64 under TCG).
    named = {"machine": back.machine}
    if spec.cpu_mode is None:
        named |= {"cpu_mode": back.cpu_mode, "cpu_model": back.cpu_model}
    assert uuid == spec.uuid
    assert back == dataclasses.replace(spec, **named)
    assert domain_state(libvirtd, uuid) == "running"
    wait_for_text(serial_log, f"GUEST READY {plan.smbios_serial}", timeout=BOOT_TIMEOUT_S)
    if plan.optimization == "high_performance":
        assert back.vcpu_pins and back.numa_cells, "the host's NUMA cells should have pinned the VM"
        assert back.cpu_mode == ("maximum" if info.domain_type == "qemu" else "host-passthrough")
    destroy_domain(libvirtd, uuid)
    undefine_domain(libvirtd, uuid)
    with pytest.raises(DomainNotFound):
        domain_state(libvirtd, uuid)
