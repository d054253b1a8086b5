"""Internal snapshots of a domain: create, list, revert, delete.

Only internal snapshots (kept inside the domain's qcow2 disks): libvirt 9.0
cannot revert external ones, and QEMU's ``--disk-only`` quietly makes an
external overlay. So the shape of a snapshot follows the domain's state:

- a running or paused domain: memory AND disks, internal (QEMU takes an
  internal snapshot of a live domain only with its memory); reverting brings
  the guest back running (or paused) exactly where it was;
- a shut-off domain: disks only, internal (libvirt runs ``qemu-img snapshot
  -c`` on each qcow2 disk); reverting leaves the domain shut off.

Snapshot XML is built with lxml; every libvirt error is translated.
"""

from __future__ import annotations

from dataclasses import dataclass

import libvirt
from lxml import etree

from hypervisor.domains import DOMAIN_STATES, _lookup
from hypervisor.errors import InvalidSpec, libvirt_errors

_SAFE_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)
# What libvirt keeps as a snapshot's name (also the qcow2 tag): short, plain.
NAME_MAX = 64


@dataclass(frozen=True)
class SnapshotInfo:
    name: str
    description: str
    state: str  # the domain's state when it was taken: running, paused, shutoff
    parent: str | None  # the parent snapshot's name
    created_at: int  # seconds since the epoch
    has_memory: bool
    current: bool


def build_snapshot_xml(name: str, description: str, *, memory: bool) -> str:
    """``<domainsnapshot>`` with the memory internal or left out (disks
    follow libvirt's default: internal for qcow2)."""
    if not name or len(name) > NAME_MAX or not name.replace("-", "").replace("_", "").isalnum():
        raise InvalidSpec(f"A snapshot name is 1-{NAME_MAX} letters, digits, '-' or '_', not {name!r}.")
    root = etree.Element("domainsnapshot")
    etree.SubElement(root, "name").text = name
    if description:
        etree.SubElement(root, "description").text = description
    etree.SubElement(root, "memory", snapshot="internal" if memory else "no")
    return etree.tostring(root, encoding="unicode")


def parse_snapshot_xml(xml: str, *, current: bool = False) -> SnapshotInfo:
    root = etree.fromstring(xml.encode(), _SAFE_PARSER)
    memory = root.find("memory")
    return SnapshotInfo(
        name=root.findtext("name") or "",
        description=root.findtext("description") or "",
        state=root.findtext("state") or "",
        parent=root.findtext("parent/name"),
        created_at=int(root.findtext("creationTime") or 0),
        has_memory=memory is not None and memory.get("snapshot") == "internal",
        current=current,
    )


def create_snapshot(uri: str, uuid: str, *, name: str, description: str = "") -> SnapshotInfo:
    """Take an internal snapshot: with memory when the domain is active, of the
    disks alone when it is shut off (see the module's docstring)."""
    domain = _lookup(uri, uuid)
    with libvirt_errors(uri):
        xml = build_snapshot_xml(name, description, memory=bool(domain.isActive()))
        snapshot = domain.snapshotCreateXML(xml, 0)
        return parse_snapshot_xml(snapshot.getXMLDesc(0), current=bool(snapshot.isCurrent()))


def list_snapshots(uri: str, uuid: str) -> tuple[SnapshotInfo, ...]:
    """Every snapshot of the domain, parents before their children."""
    domain = _lookup(uri, uuid)
    with libvirt_errors(uri):
        snapshots = domain.listAllSnapshots(libvirt.VIR_DOMAIN_SNAPSHOT_LIST_TOPOLOGICAL)
        return tuple(parse_snapshot_xml(s.getXMLDesc(0), current=bool(s.isCurrent())) for s in snapshots)


def revert_snapshot(uri: str, uuid: str, name: str) -> str:
    """Bring the domain back to the snapshot (running or paused as it was,
    shut off for a disk-only one); return the domain's state afterwards."""
    domain = _lookup(uri, uuid)
    with libvirt_errors(uri):
        domain.revertToSnapshot(domain.snapshotLookupByName(name, 0), 0)
        state, _reason = domain.state()
    return DOMAIN_STATES.get(state, "nostate")


def delete_snapshot(uri: str, uuid: str, name: str) -> None:
    """Remove the snapshot (its data in the qcow2 too); its children move up to its parent."""
    domain = _lookup(uri, uuid)
    with libvirt_errors(uri):
        domain.snapshotLookupByName(name, 0).delete(0)
