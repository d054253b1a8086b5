"""Changing a running domain: its memory and vCPUs, within the maximums it
was defined with (``DomainSpec.max_memory_mb``, ``DomainSpec.max_vcpus``),
and plugging a virtio disk into it (``attach_disk_live``).

Found on these hosts (libvirt 9.0, QEMU 7.2, TCG): a DIMM attached live to a
domain with <maxMemory slots=...> and a guest NUMA cell shows at once in
libvirt's live XML (``<memory>`` grows by the DIMM); ``setVcpusFlags`` plugs
vCPUs up to <vcpu>'s maximum in ~30 ms. Both also change the persistent
definition (CONFIG), so a restart outside the portal keeps them. Whatever
libvirt refuses comes back translated (hypervisor.errors) for the caller to
keep for the next start.
"""

from __future__ import annotations

from dataclasses import replace

import libvirt
from lxml import etree

from hypervisor.domain_xml import build_disk_xml
from hypervisor.domains import _lookup, _require_state, _state_name
from hypervisor.errors import Conflict, InvalidSpec, libvirt_errors
from hypervisor.specs import DISK_BUS_PREFIXES, DiskSpec

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


# Buses QEMU can plug a disk into while the guest runs (a PCI device each);
# SATA (AHCI) and IDE disks cannot be hot-plugged.
HOTPLUG_BUSES = frozenset({"virtio"})


def attach_disk_live(uri: str, uuid: str, disk: DiskSpec) -> str:
    """Plug ``disk`` into the running domain and into its persistent
    definition (LIVE | CONFIG) at the next free target name of its bus;
    returns that name (vdb...). Conflict when the domain is not running or
    the bus cannot be hot-plugged."""
    if disk.bus not in HOTPLUG_BUSES:
        raise Conflict(f"A disk on the {disk.bus} bus cannot be plugged into a running virtual machine; "
                       f"only {', '.join(sorted(HOTPLUG_BUSES))} disks can.", uri=uri)
    domain = _lookup(uri, uuid)
    with libvirt_errors(uri):
        _require_state(uri, domain, frozenset({"running"}), "plug a disk into")
        root = etree.fromstring(domain.XMLDesc(0).encode())
        taken = {target.get("dev") for target in root.iterfind("devices/disk/target")}
        prefix = DISK_BUS_PREFIXES[disk.bus]
        target = next((prefix + letter for letter in "abcdefghijklmnopqrstuvwxyz" if prefix + letter not in taken),
                      None)
        if target is None:
            raise Conflict(f"The virtual machine {domain.name()!r} has no free {prefix}* disk name left.", uri=uri)
        domain.attachDeviceFlags(build_disk_xml(replace(disk, target=target)), _LIVE_AND_CONFIG)
    return target
