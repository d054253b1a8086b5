"""Host facts on simulated hosts (test driver node files) and a captured capabilities XML."""

import re
import xml.etree.ElementTree as ET

import libvirt

from hypervisor import CpuTopology, NumaCell, get_connection, parse_capabilities, read_host_info
from hypervisor.host import host_topology, version_string
from tests.hypervisor.support import HOSTS_DIR, node_uri

TWO_SOCKET_HT = node_uri(HOSTS_DIR / "two-socket-ht.xml")
SMALL = node_uri(HOSTS_DIR / "small.xml")


def test_it_reads_a_two_socket_hyperthreaded_host():
    info = read_host_info(TWO_SOCKET_HT)

    assert info.topology == CpuTopology(sockets=2, cores=4, threads=2)
    assert info.cpu_total == 16
    assert info.numa_cells == (
        NumaCell(index=0, cpus=(0, 1, 2, 3, 4, 5, 6, 7), memory_mb=16384),
        NumaCell(index=1, cpus=(8, 9, 10, 11, 12, 13, 14, 15), memory_mb=16384),
    )
    assert info.memory_mb == 32 * 1024
    assert info.cpu_model == "Skylake-Server"


def test_it_reads_a_small_host():
    info = read_host_info(SMALL)

    assert info.topology == CpuTopology(sockets=1, cores=2, threads=1)
    assert info.cpu_total == 2
    assert info.numa_cells == (NumaCell(index=0, cpus=(0, 1), memory_mb=4096),)
    assert info.memory_mb == 4096
    assert info.cpu_model == "Haswell"


def test_it_says_a_test_host_runs_test_domains_without_kvm():
    info = read_host_info(SMALL)

    assert info.hypervisor_type == "TEST"
    assert info.domain_type == "test"
    assert info.kvm is False


def test_it_reports_versions_as_dotted_strings():
    info = read_host_info(SMALL)

    assert re.fullmatch(r"\d+\.\d+\.\d+", info.libvirt_version)
    assert info.libvirt_version == version_string(libvirt.getVersion())
    assert re.fullmatch(r"\d+\.\d+\.\d+", info.hypervisor_version)
    assert version_string(9_000_000) == "9.0.0"
    assert version_string(7_002_022) == "7.2.22"


def test_it_agrees_with_the_connections_own_capabilities_and_node_info():
    conn = get_connection(TWO_SOCKET_HT)
    caps = ET.fromstring(conn.getCapabilities())
    _model, memory_mb, cpus, _mhz, nodes, sockets_per_node, cores, threads = conn.getInfo()

    info = read_host_info(TWO_SOCKET_HT)

    assert info.cpu_arch == caps.findtext("host/cpu/arch")
    # A node file gives cell counts but no cell contents: the capabilities list none.
    assert caps.findall("host/topology/cells/cell") == []
    assert len(info.numa_cells) == nodes
    assert info.topology.total == cpus == info.cpu_total
    assert info.topology == CpuTopology(nodes * sockets_per_node, cores, threads)
    assert sum(cell.memory_mb for cell in info.numa_cells) == info.memory_mb == memory_mb


def test_it_takes_numa_cells_from_the_capabilities_when_listed():
    # test:///default lists two cells of 8 CPUs (2 GiB and 4 GiB) in its capabilities.
    caps = ET.fromstring(get_connection("test:///default").getCapabilities())
    expected = tuple(
        NumaCell(
            index=int(cell.get("id")),
            cpus=tuple(sorted(int(cpu.get("id")) for cpu in cell.iter("cpu"))),
            memory_mb=int(cell.findtext("memory")) // 1024,
        )
        for cell in caps.iterfind("host/topology/cells/cell")
    )

    info = read_host_info("test:///default")

    assert len(expected) == 2
    assert info.numa_cells == expected


def test_it_counts_sockets_over_all_numa_cells():
    caps = parse_capabilities((HOSTS_DIR / "caps-two-numa-cells.xml").read_text())

    assert caps.arch == "x86_64"
    assert caps.cpu_model == "Skylake-Server-IBRS"
    assert "vmx" in caps.cpu_features
    assert caps.numa_cells == (
        NumaCell(index=0, cpus=(0, 1, 2, 3, 8, 9, 10, 11), memory_mb=16384),
        NumaCell(index=1, cpus=(4, 5, 6, 7, 12, 13, 14, 15), memory_mb=16128),
    )
    # libvirt says sockets='1' (per cell); the host has two.
    assert host_topology(caps, cpus=16, node_cores=4, node_threads=2) == CpuTopology(2, 4, 2)


def test_it_falls_back_to_one_socket_when_the_numbers_do_not_divide():
    caps = parse_capabilities((HOSTS_DIR / "caps-two-numa-cells.xml").read_text())

    assert host_topology(caps, cpus=15, node_cores=4, node_threads=2) == CpuTopology(1, 15, 1)
