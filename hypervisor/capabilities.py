"""Parser for libvirt's host capabilities XML (``virsh capabilities``)."""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from hypervisor.errors import InvalidXML
from hypervisor.specs import CpuTopology, NumaCell

_SAFE_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)


@dataclass(frozen=True)
class Capabilities:
    arch: str
    cpu_model: str | None  # None when the driver names no model (the test driver)
    cpu_features: frozenset[str]
    # <host><cpu><topology> as libvirt reports it: cores and threads per socket
    # (dies folded into cores), but sockets per NUMA cell, not per host.
    # None when absent (the test driver).
    cpu_topology: CpuTopology | None
    numa_cells: tuple[NumaCell, ...]  # empty when the driver reports none


def parse_capabilities(xml: str) -> Capabilities:
    try:
        root = etree.fromstring(xml.encode(), _SAFE_PARSER)
    except etree.XMLSyntaxError as exc:
        raise InvalidXML(f"The capabilities XML is not well-formed: {exc}") from None
    cpu = root.find("host/cpu")
    if cpu is None:
        raise InvalidXML("The capabilities XML has no <host><cpu>.")
    return Capabilities(
        arch=cpu.findtext("arch") or "",
        cpu_model=cpu.findtext("model"),
        cpu_features=frozenset(f.get("name", "") for f in cpu.iterfind("feature")),
        cpu_topology=_cpu_topology(cpu.find("topology")),
        numa_cells=tuple(_numa_cell(cell) for cell in root.iterfind("host/topology/cells/cell")),
    )


def _cpu_topology(element: etree._Element | None) -> CpuTopology | None:
    if element is None:
        return None
    dies = int(element.get("dies", "1"))
    return CpuTopology(
        sockets=int(element.get("sockets", "1")),
        cores=dies * int(element.get("cores", "1")),
        threads=int(element.get("threads", "1")),
    )


def _numa_cell(cell: etree._Element) -> NumaCell:
    memory = cell.find("memory")
    if memory is None or memory.get("unit", "KiB") != "KiB":
        raise InvalidXML(f"NUMA cell {cell.get('id')} has no memory size in KiB.")
    return NumaCell(
        index=int(cell.get("id", "0")),
        cpus=tuple(sorted(int(cpu.get("id", "0")) for cpu in cell.iterfind("cpus/cpu"))),
        memory_mb=int(memory.text or "0") // 1024,
    )
