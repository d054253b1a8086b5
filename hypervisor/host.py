"""Facts about a hypervisor host: CPU topology, NUMA, memory, versions, KVM."""

from __future__ import annotations

from lxml import etree

from hypervisor.capabilities import Capabilities, parse_capabilities
from hypervisor.connection import get_connection
from hypervisor.errors import NotSupported, libvirt_errors
from hypervisor.kvm import kvm_usable
from hypervisor.specs import CpuTopology, HostInfo, NumaCell


def read_host_info(uri: str) -> HostInfo:
    conn = get_connection(uri)
    with libvirt_errors(uri):
        caps = parse_capabilities(conn.getCapabilities())
        model, memory_mb, cpus, _mhz, nodes, _sockets, cores, threads = conn.getInfo()
        hostname = conn.getHostname()
        libvirt_version = version_string(conn.getLibVersion())
        hypervisor_version = version_string(conn.getVersion())
        hypervisor_type = conn.getType()

    if hypervisor_type == "TEST":
        kvm, domain_type = False, "test"
    elif hypervisor_type == "QEMU":
        kvm = kvm_usable(uri, conn, caps)
        domain_type = "kvm" if kvm else "qemu"
    else:
        raise NotSupported(f"The {hypervisor_type} driver at {uri} is not supported.", uri=uri)

    return HostInfo(
        hostname=hostname,
        cpu_model=caps.cpu_model or model,
        cpu_arch=caps.arch,
        topology=host_topology(caps, cpus, cores, threads),
        cpu_total=cpus,
        numa_cells=caps.numa_cells or even_numa_cells(max(nodes, 1), cpus, memory_mb),
        memory_mb=memory_mb,
        libvirt_version=libvirt_version,
        hypervisor_version=hypervisor_version,
        hypervisor_type=hypervisor_type,
        kvm=kvm,
        domain_type=domain_type,
    )


def version_string(number: int) -> str:
    """libvirt's packed version (major * 1e6 + minor * 1e3 + micro) as "9.0.0"."""
    return f"{number // 1_000_000}.{number // 1_000 % 1_000}.{number % 1_000}"


def host_topology(caps: Capabilities, cpus: int, node_cores: int, node_threads: int) -> CpuTopology:
    """Sockets x cores x threads of the whole host, multiplying out to ``cpus``.

    Cores and threads per socket come from the capabilities (or, when the driver
    gives none, the node info). The socket count is derived from the total,
    because libvirt reports sockets per NUMA cell. Where the numbers do not
    divide evenly (odd hosts, offline CPUs), libvirt's own fallback applies: one
    socket holding every CPU as a core.
    """
    per_socket = caps.cpu_topology or CpuTopology(cores=max(node_cores, 1), threads=max(node_threads, 1))
    per_socket_cpus = per_socket.cores * per_socket.threads
    if cpus > 0 and cpus % per_socket_cpus == 0:
        return CpuTopology(cpus // per_socket_cpus, per_socket.cores, per_socket.threads)
    return CpuTopology(1, max(cpus, 1), 1)


def even_numa_cells(nodes: int, cpus: int, memory_mb: int) -> tuple[NumaCell, ...]:
    """NUMA cells for a driver that lists none: CPUs and memory split evenly.

    Real hosts always list their cells (libvirt invents one cell holding
    everything when the kernel has no NUMA data). The test driver's node files
    only give a cell count (``<cpu><nodes>``), so the cells are derived from it.
    """
    per_cell = cpus // nodes
    return tuple(
        NumaCell(index=i, cpus=tuple(range(i * per_cell, (i + 1) * per_cell)), memory_mb=memory_mb // nodes)
        for i in range(nodes)
    )


def usable_cpu_models(uri: str, domain_type: str) -> frozenset[str] | None:
    """The CPU models guests of this host may be given (libvirt's domain
    capabilities, custom mode, usable='yes'), or None where the driver cannot
    say (the test driver has no domain capabilities)."""
    if domain_type == "test":
        return None
    conn = get_connection(uri)
    with libvirt_errors(uri):
        arch = parse_capabilities(conn.getCapabilities()).arch
        domcaps = etree.fromstring(conn.getDomainCapabilities(None, arch, None, domain_type, 0).encode())
    return frozenset(
        model.text for model in domcaps.iterfind("cpu/mode[@name='custom']/model[@usable='yes']") if model.text
    )
