"""The real lane: the system libvirtd with QEMU, and the tiny guest booting."""

from __future__ import annotations

import queue
import re
import subprocess
import time
import uuid as uuidlib
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hypervisor import (
    DomainEvent,
    Conflict,
    CpuTopology,
    DiskSpec,
    DomainNotFound,
    DomainSpec,
    GraphicsSpec,
    SerialSpec,
    define_domain,
    destroy_domain,
    domain_state,
    domain_xml,
    get_connection,
    list_domains,
    listen_lifecycle,
    parse_domain_xml,
    read_host_info,
    start_domain,
    undefine_domain,
)
from hypervisor.kvm import BOOT_CHECK_TIMEOUT_S, boot_check
from tests.plugins.real import wait_for_text

pytestmark = pytest.mark.real

PREFIX = "pt-test-hv-"  # every domain these tests make; leftovers are removed
BOOT_TIMEOUT_S = 90


def virsh(uri: str, *args: str) -> str:
    return subprocess.run(["virsh", "-c", uri, *args], capture_output=True, text=True, check=True, timeout=60).stdout


def remove_domain(uri: str, uuid: str) -> None:
    for step in (destroy_domain, undefine_domain):
        try:
            step(uri, uuid)
        except (Conflict, DomainNotFound):
            pass  # already off / already gone


@pytest.fixture
def new_domain_name(libvirtd: str) -> Iterator[Callable[[str], str]]:
    """Names for this test's domains; all of them destroyed and undefined afterwards."""
    for leftover in list_domains(libvirtd):
        if leftover.name.startswith(PREFIX):
            remove_domain(libvirtd, leftover.uuid)
    names: list[str] = []

    def new(purpose: str) -> str:
        names.append(f"{PREFIX}{purpose}-{uuidlib.uuid4().hex[:8]}")
        return names[-1]

    yield new
    for domain in list_domains(libvirtd):
        if domain.name in names:
            remove_domain(libvirtd, domain.uuid)


def test_it_reads_host_facts_that_match_virsh_capabilities(libvirtd):
    caps = ET.fromstring(virsh(libvirtd, "capabilities"))
    cells = caps.findall("host/topology/cells/cell")
    cpu_ids = [int(cpu.get("id")) for cell in cells for cpu in cell.iter("cpu")]

    info = read_host_info(libvirtd)

    assert info.cpu_arch == caps.findtext("host/cpu/arch")
    assert info.cpu_model == caps.findtext("host/cpu/model")
    assert info.topology.sockets * info.topology.cores * info.topology.threads == len(cpu_ids) == info.cpu_total
    assert info.topology.threads == int(caps.find("host/cpu/topology").get("threads"))
    assert len(info.numa_cells) == len(cells)
    for ours, theirs in zip(info.numa_cells, cells, strict=True):
        assert ours.index == int(theirs.get("id"))
        assert ours.cpus == tuple(sorted(int(cpu.get("id")) for cpu in theirs.iter("cpu")))
        assert ours.memory_mb == int(theirs.findtext("memory")) // 1024


def test_it_reports_the_versions_virsh_reports(libvirtd):
    version = virsh(libvirtd, "version")

    info = read_host_info(libvirtd)

    assert f"Using library: libvirt {info.libvirt_version}" in version
    assert f"Running hypervisor: QEMU {info.hypervisor_version}" in version
    assert info.hypervisor_type == "QEMU"


def test_it_decides_between_kvm_and_qemu_once_per_host(libvirtd):
    first = read_host_info(libvirtd)
    started = time.monotonic()
    second = read_host_info(libvirtd)

    assert first.domain_type in ("kvm", "qemu")
    assert first.kvm == (first.domain_type == "kvm")
    assert second == first
    assert time.monotonic() - started < 1.0  # the boot check is not run again


def test_it_runs_the_kvm_boot_check_without_leaving_a_domain_behind(libvirtd):
    started = time.monotonic()
    passed, why = boot_check(libvirtd, get_connection(libvirtd), read_host_info(libvirtd).cpu_arch)

    assert isinstance(passed, bool) and why
    assert time.monotonic() - started < BOOT_CHECK_TIMEOUT_S + 2
    assert not [d for d in list_domains(libvirtd) if d.name.startswith("pt-kvm-probe-")]


def test_it_delivers_lifecycle_events_from_the_daemon(libvirtd, new_domain_name):
    events: queue.Queue[DomainEvent] = queue.Queue()
    name = new_domain_name("events")
    listener = listen_lifecycle(libvirtd, lambda event: events.put(event) if event.domain_name == name else None)
    try:
        uuid = define_domain(libvirtd, DomainSpec(name=name, memory_mb=64, domain_type="qemu"))
        defined = events.get(timeout=1.0)
        undefine_domain(libvirtd, uuid)
        undefined = events.get(timeout=1.0)
    finally:
        listener.stop()

    assert (defined.event, defined.domain_uuid, defined.uri) == ("defined", uuid, libvirtd)
    assert (undefined.event, undefined.domain_uuid) == ("undefined", uuid)


def test_it_has_real_libvirt_accept_its_xml(libvirtd, new_domain_name, tmp_path):
    info = read_host_info(libvirtd)
    name = new_domain_name("xml") + " a<b&\"c'"
    spec = DomainSpec(
        name=name,
        title="title a<b&\"c'",
        description="line one a<b&\"c'\nline two",
        memory_mb=128,
        topology=CpuTopology(sockets=1, cores=2, threads=1),
        domain_type=info.domain_type,
        arch=info.cpu_arch,
        disks=(DiskSpec(str(tmp_path / "never-created.qcow2")),),
        graphics=(GraphicsSpec(),),
        serials=(SerialSpec(type="file", path=str(tmp_path / "serial.log")),),
        smbios_serial="xml-test",
        metadata={"owner": "a<b&\"c'"},
    )

    uuid = define_domain(libvirtd, spec)
    back = parse_domain_xml(domain_xml(libvirtd, uuid))
    domain = get_connection(libvirtd).lookupByUUIDString(uuid)

    assert domain.name() == name
    assert (back.name, back.title, back.description, back.metadata) == (spec.name, spec.title, spec.description, spec.metadata)
    assert (back.memory_mb, back.topology, back.disks, back.serials) == (128, spec.topology, spec.disks, spec.serials)
    assert back.smbios_serial == "xml-test"
    undefine_domain(libvirtd, uuid)
    with pytest.raises(DomainNotFound):
        domain_state(libvirtd, uuid)


def test_it_boots_the_guest_image_to_its_ready_line(libvirtd, new_domain_name, guest_disk: Path, tmp_path):
    info = read_host_info(libvirtd)
    serial_log = tmp_path / "serial.log"
    spec = DomainSpec(
        name=new_domain_name("boot"),
        memory_mb=256,
        domain_type=info.domain_type,
        arch=info.cpu_arch,
        disks=(DiskSpec(str(guest_disk)),),
        graphics=(GraphicsSpec(type="vnc", listen="127.0.0.1"),),
        serials=(SerialSpec(type="file", path=str(serial_log)),),
        smbios_serial="guest-boot-test",
    )

    uuid = define_domain(libvirtd, spec)
    start_domain(libvirtd, uuid)

    assert domain_state(libvirtd, uuid) == "running"
    log = wait_for_text(serial_log, "GUEST READY guest-boot-test", timeout=BOOT_TIMEOUT_S)
    assert re.search(r"^GUEST READY guest-boot-test\r?$", log, re.MULTILINE)
