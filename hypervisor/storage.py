"""Storage pools and their volumes, by host URI and pool name.

A storage domain of the portal is realised on every host as a libvirt storage
pool of the same name over the same directory. This module makes such a pool
exist (idempotently), reads its figures and removes it again. Two pool types:

- ``dir``: a directory of the host (local, or a file system mounted there).
- ``netfs``: an NFS export that libvirt mounts on the directory when the pool
  starts and unmounts when it stops (``mount -t nfs server:/export dir``, so
  the host needs an NFS client: nfs-common and the kernel's nfs module).

Removing a pool only forgets it (destroy + undefine): it never deletes the
directory or anything in it. Those are the user's disks and ISOs.

Volumes (the files in a pool) are hypervisor.volumes'.

Pool XML is built and read here with lxml, never with string formatting.
"""

from __future__ import annotations

import ipaddress
import posixpath
import re
from dataclasses import dataclass

import libvirt
from lxml import etree

from hypervisor.connection import get_connection
from hypervisor.errors import Conflict, HypervisorError, InvalidSpec, InvalidXML, NotFound, libvirt_errors
from hypervisor.specs import _one_of, _xml_text

POOL_TYPES = frozenset({"dir", "netfs"})
# A host name (RFC 1123 labels), an IPv4 address or an IPv6 address: what
# mount.nfs accepts before the ':' (IPv6 in brackets there; libvirt adds them).
_NFS_HOST = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")
POOL_STATES: dict[int, str] = {
    libvirt.VIR_STORAGE_POOL_INACTIVE: "inactive",
    libvirt.VIR_STORAGE_POOL_BUILDING: "building",
    libvirt.VIR_STORAGE_POOL_RUNNING: "running",
    libvirt.VIR_STORAGE_POOL_DEGRADED: "degraded",
    libvirt.VIR_STORAGE_POOL_INACCESSIBLE: "inaccessible",
}

_SAFE_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=True)


@dataclass(frozen=True)
class PoolSpec:
    """A storage pool as the portal wants it: a name over a directory; for a
    ``netfs`` pool, the NFS export ``source_host:source_dir`` mounted there."""

    name: str
    path: str
    type: str = "dir"
    source_host: str = ""
    source_dir: str = ""

    def __post_init__(self) -> None:
        _xml_text("Pool name", self.name, single_line=True)
        if not self.name.strip():
            raise InvalidSpec("The pool name must not be empty.")
        if "/" in self.name:
            raise InvalidSpec(f"The pool name {self.name!r} contains '/', which libvirt refuses.")
        _xml_text("Pool path", self.path, single_line=True)
        if not self.path.startswith("/"):
            raise InvalidSpec(f"The pool path must be absolute, not {self.path!r}.")
        _one_of("Pool type", self.type, POOL_TYPES)
        # libvirt drops trailing and doubled slashes too; comparing paths needs
        # the same spelling on both sides.
        object.__setattr__(self, "path", _normal_path(self.path))
        if self.type == "netfs":
            nfs_host_check(self.source_host)
            _xml_text("NFS export", self.source_dir, single_line=True)
            if not self.source_dir.startswith("/"):
                raise InvalidSpec(f"The NFS export must be an absolute path on the server, not {self.source_dir!r}.")
            object.__setattr__(self, "source_dir", _normal_path(self.source_dir))
        elif self.source_host or self.source_dir:
            raise InvalidSpec(f"A {self.type} pool has no NFS server or export.")

    @property
    def source(self) -> str:
        """``server:/export`` for a netfs pool, "" otherwise."""
        if self.type != "netfs":
            return ""
        host = f"[{self.source_host}]" if ":" in self.source_host else self.source_host
        return f"{host}:{self.source_dir}"


def nfs_host_check(host: str) -> str:
    """An NFS server as a host name or an IPv4/IPv6 address; InvalidSpec otherwise."""
    _xml_text("NFS server", host, single_line=True)
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    if len(host) > 253 or not _NFS_HOST.match(host):
        raise InvalidSpec(
            f"The NFS server {host!r} is neither a host name (letters, digits, '-' and '.') nor an IP address."
        )
    return host


@dataclass(frozen=True)
class PoolInfo:
    name: str
    uuid: str
    state: str  # inactive, building, running, degraded, inaccessible
    capacity_bytes: int
    allocation_bytes: int
    available_bytes: int
    path: str


def build_pool_xml(spec: PoolSpec) -> str:
    root = etree.Element("pool", type=spec.type)
    etree.SubElement(root, "name").text = spec.name
    if spec.type == "netfs":
        source = etree.SubElement(root, "source")
        etree.SubElement(source, "host", name=spec.source_host)
        etree.SubElement(source, "dir", path=spec.source_dir)
        etree.SubElement(source, "format", type="nfs")
    target = etree.SubElement(root, "target")
    etree.SubElement(target, "path").text = spec.path
    return etree.tostring(root, encoding="unicode", pretty_print=True)


def parse_pool_xml(xml: str) -> PoolSpec:
    """Read pool XML (ours or libvirt's ``pool-dumpxml``) back into a PoolSpec."""
    pool_type, name, path = _pool_identity(xml)
    if not name:
        raise InvalidXML("The pool XML has no <name>.")
    if not path:
        raise InvalidXML("The pool XML has no <target><path>.")
    host, directory, fmt = _pool_source(xml)
    if pool_type == "netfs" and fmt not in ("", "auto", "nfs"):
        raise InvalidXML(f"The netfs pool {name!r} is of format {fmt}; only NFS pools are ours.")
    return PoolSpec(name=name, path=path, type=pool_type, source_host=host, source_dir=directory)


def ensure_dir_pool(uri: str, spec: PoolSpec) -> PoolInfo:
    """Make the pool exist, persistent, started and autostarted; return its figures.

    Idempotent: a pool that is already there with the same directory (and, for
    netfs, the same export) is left as it is (started if it was not). A pool of
    that name over another directory or export, or another pool over this
    directory, is a Conflict: we never take over or change what someone else
    set up. A netfs pool that cannot be mounted stays defined, not running,
    and the error says which export could not be mounted where, and why.
    """
    conn = get_connection(uri)
    pool = _lookup_or_none(conn, uri, spec.name)
    if pool is None:
        pool = _define(conn, uri, spec)
    else:
        _check_same(uri, spec, pool)
    with libvirt_errors(uri):
        if not pool.isPersistent():
            # A transient pool of ours (started by hand with pool-create): make
            # it persistent, or autostart and the next daemon restart lose it.
            # Its own XML keeps its UUID, which libvirt requires for that (the
            # live figures in it are ignored; the test driver has no INACTIVE flag).
            pool = conn.storagePoolDefineXML(pool.XMLDesc(0), 0)
        if not pool.isActive():
            # For a dir pool, build creates the directory when it is missing and
            # leaves an existing one (and its contents) alone; for netfs, the
            # mount point. Starting a netfs pool mounts the export.
            pool.build(0)
            _start(uri, pool, spec)
        if not pool.autostart():
            pool.setAutostart(1)
    return _refreshed_info(uri, pool)


ensure_pool = ensure_dir_pool  # any PoolSpec type, despite the historical name


def pool_info(uri: str, name: str) -> PoolInfo:
    """The pool's figures, re-read from the storage (refresh) when it is running."""
    conn = get_connection(uri)
    pool = _lookup(conn, uri, name)
    return _refreshed_info(uri, pool)


def remove_pool(uri: str, name: str) -> bool:
    """Stop and forget the pool; its directory and files stay. Returns whether
    there was a pool to remove (removing a missing pool is not an error)."""
    conn = get_connection(uri)
    pool = _lookup_or_none(conn, uri, name)
    if pool is None:
        return False
    try:
        with libvirt_errors(uri):
            if pool.isActive():
                pool.destroy()
            if pool.isPersistent():
                pool.undefine()
    except NotFound:
        pass  # removed by someone else meanwhile: what we wanted
    return True


def list_pools(uri: str) -> tuple[str, ...]:
    """Names of every pool on the host, active or not."""
    conn = get_connection(uri)
    with libvirt_errors(uri):
        return tuple(sorted(pool.name() for pool in conn.listAllStoragePools(0)))


def _running_pool(conn: libvirt.virConnect, uri: str, name: str) -> libvirt.virStoragePool:
    pool = _lookup(conn, uri, name)
    with libvirt_errors(uri):
        if not pool.isActive():
            raise Conflict(f"The storage pool {name!r} on {uri} is not running.", uri=uri)
    return pool


def _normal_path(path: str) -> str:
    normal = posixpath.normpath(path)
    return "/" + normal.lstrip("/")  # normpath keeps a leading "//"; libvirt does not


def _pool_identity(xml: str) -> tuple[str, str, str]:
    """(type, name, target path) of pool XML, without judging them."""
    try:
        root = etree.fromstring(xml.encode(), _SAFE_PARSER)
    except etree.XMLSyntaxError as exc:
        raise InvalidXML(f"The pool XML is not well-formed: {exc}") from None
    if root.tag != "pool":
        raise InvalidXML(f"Expected a <pool> document, got <{root.tag}>.")
    return root.get("type", ""), root.findtext("name") or "", root.findtext("target/path") or ""


def _pool_source(xml: str) -> tuple[str, str, str]:
    """(host, dir, format) of a pool's <source>, "" for what it lacks."""
    try:
        root = etree.fromstring(xml.encode(), _SAFE_PARSER)
    except etree.XMLSyntaxError as exc:
        raise InvalidXML(f"The pool XML is not well-formed: {exc}") from None
    host = root.find("source/host")
    directory = root.find("source/dir")
    fmt = root.find("source/format")
    return (
        host.get("name", "") if host is not None else "",
        directory.get("path", "") if directory is not None else "",
        fmt.get("type", "") if fmt is not None else "",
    )


def _lookup(conn: libvirt.virConnect, uri: str, name: str) -> libvirt.virStoragePool:
    with libvirt_errors(uri):
        return conn.storagePoolLookupByName(name)


def _lookup_or_none(conn: libvirt.virConnect, uri: str, name: str) -> libvirt.virStoragePool | None:
    try:
        return _lookup(conn, uri, name)
    except NotFound:
        return None


def _check_same(uri: str, spec: PoolSpec, pool: libvirt.virStoragePool) -> None:
    with libvirt_errors(uri):
        xml = pool.XMLDesc(0)
    pool_type, _name, path = _pool_identity(xml)
    host, directory, _fmt = _pool_source(xml)
    same_source = spec.type != "netfs" or (host == spec.source_host and _normal_path(directory or "/") == spec.source_dir)
    if pool_type != spec.type or _normal_path(path or "/") != spec.path or not same_source:
        theirs = f" from {host}:{directory}" if pool_type == "netfs" else ""
        ours = f" from {spec.source}" if spec.type == "netfs" else ""
        raise Conflict(
            f"A storage pool named {spec.name!r} already exists on {uri} over {path or 'nothing'}{theirs} "
            f"(type {pool_type}), not over {spec.path}{ours} (type {spec.type}); it is left as it is.",
            uri=uri,
        )


def _pool_over(conn: libvirt.virConnect, uri: str, path: str) -> str | None:
    """The name of a pool whose directory is ``path``, if there is one."""
    with libvirt_errors(uri):
        pools = conn.listAllStoragePools(0)
    for pool in pools:
        try:
            with libvirt_errors(uri):
                _type, name, target = _pool_identity(pool.XMLDesc(0))
        except NotFound:
            continue  # removed while we were looking
        if target and _normal_path(target) == path:
            return name
    return None


def _define(conn: libvirt.virConnect, uri: str, spec: PoolSpec) -> libvirt.virStoragePool:
    holder = _pool_over(conn, uri, spec.path)
    if holder is not None:
        raise Conflict(
            f"The directory {spec.path} on {uri} is already the storage pool {holder!r}; "
            f"libvirt allows one pool per directory.",
            uri=uri,
        )
    try:
        with libvirt_errors(uri):
            return conn.storagePoolDefineXML(build_pool_xml(spec), 0)
    except HypervisorError:
        # libvirt reports "already exists" only as a generic failure. Another
        # worker may have defined the same pool meanwhile: that one is as good.
        pool = _lookup_or_none(conn, uri, spec.name)
        if pool is None:
            raise
        _check_same(uri, spec, pool)
        return pool


def _start(uri: str, pool: libvirt.virStoragePool, spec: PoolSpec | None = None) -> None:
    try:
        with libvirt_errors(uri):
            pool.create(0)
    except HypervisorError as error:
        with libvirt_errors(uri):
            if pool.isActive():
                return  # started by someone else meanwhile
        if spec is not None and spec.type == "netfs":
            why = error.message.removeprefix(f"Hypervisor error on {uri}: ")
            raise type(error)(
                f"The NFS export {spec.source} could not be mounted at {spec.path} on {uri}: {why}",
                uri=error.uri, transient=error.transient,
            ) from error
        raise


def _refreshed_info(uri: str, pool: libvirt.virStoragePool) -> PoolInfo:
    with libvirt_errors(uri):
        if pool.isActive():
            pool.refresh(0)
        state, capacity, allocation, available = pool.info()
        _type, name, path = _pool_identity(pool.XMLDesc(0))
        return PoolInfo(
            name=name,
            uuid=pool.UUIDString(),
            state=POOL_STATES.get(state, "unknown"),
            capacity_bytes=capacity,
            allocation_bytes=allocation,
            available_bytes=available,
            path=_normal_path(path) if path else "",
        )
