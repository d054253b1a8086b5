"""Changing a running domain's memory and vCPUs, within the maximums it was
defined with (``DomainSpec.max_memory_mb``, ``DomainSpec.max_vcpus``).

Found on these hosts (libvirt 9.0, QEMU 7.2, TCG): a DIMM attached live to a
domain with <maxMemory slots=...> and a guest NUMA cell shows at once in
libvirt's live XML (``<memory>`` grows by the DIMM); ``setVcpusFlags`` plugs
vCPUs up to <vcpu>'s maximum in ~30 ms. Both also change the persistent
definition (CONFIG), so a restart outside the portal keeps them. Whatever
libvirt refuses comes back translated (hypervisor.errors) for the caller to
keep for the next start.
"""

from __future__ import annotations

import libvirt
from lxml import etree

from hypervisor.domains import _lookup, _state_name
from hypervisor.errors import Conflict, InvalidSpec, libvirt_errors

_LIVE_AND_CONFIG = libvirt.VIR_DOMAIN_AFFECT_LIVE | libvirt.VIR_DOMAIN_AFFECT_CONFIG


def dimm_xml(size_mb: int, *, node: int = 0) -> str:
    """A memory module of ``size_mb`` MiB for guest NUMA cell ``node``."""
    memory = etree.Element("memory", model="dimm")
    target = etree.SubElement(memory, "target")
    etree.SubElement(target, "size", unit="MiB").text = str(size_mb)
    etree.SubElement(target, "node").text = str(node)
    return etree.tostring(memory, encoding="unicode")


def plug_memory(uri: str, uuid: str, size_mb: int, *, node: int = 0) -> None:
    """Add ``size_mb`` MiB to a running domain as one DIMM."""
    if isinstance(size_mb, bool) or not isinstance(size_mb, int) or size_mb <= 0:
        raise InvalidSpec(f"Memory to plug must be a positive number of MiB, not {size_mb!r}.")
    domain = _running(uri, uuid)
    with libvirt_errors(uri):
        domain.attachDeviceFlags(dimm_xml(size_mb, node=node), _LIVE_AND_CONFIG)


def set_vcpus(uri: str, uuid: str, count: int) -> None:
    """Plug or unplug vCPUs of a running domain until ``count`` run."""
    if isinstance(count, bool) or not isinstance(count, int) or count <= 0:
        raise InvalidSpec(f"A domain needs a positive number of vCPUs, not {count!r}.")
    domain = _running(uri, uuid)
    with libvirt_errors(uri):
        domain.setVcpusFlags(count, _LIVE_AND_CONFIG)


def _running(uri: str, uuid: str) -> libvirt.virDomain:
    domain = _lookup(uri, uuid)
    with libvirt_errors(uri):
        state = _state_name(domain)
    if state not in ("running", "blocked", "paused"):
        raise Conflict(f"The domain is {state}: only a running domain changes live.", uri=uri)
    return domain
