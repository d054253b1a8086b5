"""Volumes (the files of a storage pool), by host URI and pool name or path.

Volumes are created, uploaded (streamed from a file of this machine), copied,
overlaid, grown and deleted through libvirt, never with local file operations
or a local qemu-img, so the same code works on a remote host: the daemon runs
qemu-img there. Two formats:

- ``qcow2``: thin (grows as the guest writes), qcow2 v3 (``compat 1.1``;
  libvirt 9.0 would otherwise write the old v2 format).
- ``raw``: preallocated, the whole capacity reserved on disk up front
  (fallocate), so a guest can never be paused by a full file system.

Volume XML is built and read here with lxml, never with string formatting.
The pools themselves are hypervisor.storage's.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass

import libvirt
from lxml import etree

from hypervisor.connection import get_connection
from hypervisor.errors import Conflict, HypervisorError, InvalidSpec, InvalidXML, NotFound, libvirt_errors
from hypervisor.specs import _one_of, _positive_int, _xml_text
# The pools' own helpers: a volume lives in a pool (private to the package, as
# domains' _lookup is for screenshot.py and snapshots.py).
from hypervisor.storage import _SAFE_PARSER, _lookup, _normal_path, _pool_identity, _running_pool
from hypervisor.watching import run_watched

VOLUME_FORMATS = frozenset({"qcow2", "raw"})
SECTOR = 512  # disks are addressed in sectors: capacities are whole sectors
MAX_VOLUME_NAME_BYTES = 255  # a file name, on every Linux file system
QCOW2_COMPAT = "1.1"
# The formats libvirt's storage driver reads a volume as, and so copies from
# (createXMLFrom runs ``qemu-img convert -f <the format libvirt probed>``).
# libvirt 9.0 does not know vhdx: it reads such a file as raw, and a "copy"
# would be the vhdx container's bytes as the guest's disk. Refused, not guessed.
COPY_SOURCE_FORMATS = frozenset({"qcow2", "raw", "vmdk", "vdi", "vpc"})

@dataclass(frozen=True)
class VolumeInfo:
    name: str
    path: str
    capacity_bytes: int
    allocation_bytes: int
    format: str  # raw, qcow2, iso... as libvirt detects it ("" when it says nothing)
    backing_path: str = ""  # a qcow2 overlay's backing file ("" when it stands alone)


def list_volumes(uri: str, pool_name: str) -> list[VolumeInfo]:
    """The volumes (files) of a running pool, sorted by name, as found on disk now."""
    conn = get_connection(uri)
    pool = _lookup(conn, uri, pool_name)
    with libvirt_errors(uri):
        if not pool.isActive():
            raise Conflict(f"The storage pool {pool_name!r} on {uri} is not running.", uri=uri)
        pool.refresh(0)
        volumes = pool.listAllVolumes(0)
    result = []
    for volume in volumes:
        try:
            result.append(_volume_info(uri, volume))
        except NotFound:
            continue  # deleted while we were listing: no longer there
    return sorted(result, key=lambda v: v.name)


def create_volume(uri: str, pool: str, name: str, *, capacity_bytes: int, format: str) -> VolumeInfo:
    """A new, empty volume ``name`` in the running pool ``pool``.

    ``format="qcow2"``: thin, takes a few hundred KiB whatever its capacity.
    ``format="raw"``: preallocated, libvirt fallocates the whole capacity
    (allocation = capacity), so its space is reserved now and the pool's free
    space shrinks at once. Conflict when a volume (or any file) of that name
    is already in the pool's directory.
    """
    _check_volume_name(name)
    _one_of("Volume format", format, VOLUME_FORMATS)
    _check_capacity(capacity_bytes)
    xml = _volume_xml(name, fmt=format, capacity=capacity_bytes, allocation=_allocation(format, capacity_bytes))
    conn = get_connection(uri)
    libvirt_pool = _running_pool(conn, uri, pool)
    with _creating(uri, libvirt_pool, pool, name):
        volume = libvirt_pool.createXML(xml, 0)
    return _volume_info(uri, volume)


def copy_volume(
    uri: str, pool: str, name: str, *, source_path: str, format: str, capacity_bytes: int | None = None,
    source_format: str | None = None, progress: Callable[[int, int], None] | None = None,
) -> VolumeInfo:
    """A full, standalone copy of the image at ``source_path`` as a new volume.

    The copy is converted to ``format`` (a qcow2 source with a backing file is
    flattened into it) and grown to ``capacity_bytes`` when that is larger than
    the source (None: the source's size; smaller is refused, it would cut the
    disk). A raw copy is preallocated like ``create_volume``'s.

    The source is read as the format libvirt finds in it (vmdk, vdi, vpc...
    are converted); ``source_format``, when given, is the format the caller
    knows it to be (detected at upload): a source libvirt reads otherwise, or
    a format it cannot read (``COPY_SOURCE_FORMATS``), is refused with
    InvalidSpec before anything is written.

    libvirt copies only from a volume, so the source must be a file in some
    storage pool's directory on the host (an upload landed there); the pools
    over its directory are refreshed if libvirt has not seen it yet. We use
    libvirt's createXMLFrom rather than a local qemu-img because the file is on
    the host, which may not be this machine. It neither grows the copy nor
    preallocates it when converting (qemu-img convert keeps holes), so a
    resize follows where needed; a copy that cannot be finished is deleted.

    ``progress(copied, total)`` is called, in the caller's thread, about twice
    a second while the copy runs: ``copied`` is the new volume's allocation
    (createXMLFrom says nothing until it returns, but libvirt answers info()
    on a volume it is still building), ``total`` the source's allocation.
    """
    _check_volume_name(name)
    _one_of("Volume format", format, VOLUME_FORMATS)
    if capacity_bytes is not None:
        _check_capacity(capacity_bytes)
    if source_format is not None:
        _one_of("Source format", source_format, COPY_SOURCE_FORMATS)
    source_path = _absolute_path("Source path", source_path)
    conn = get_connection(uri)
    libvirt_pool = _running_pool(conn, uri, pool)
    source = _volume_at(conn, uri, source_path)
    with libvirt_errors(uri):
        _type, source_capacity, source_allocation = source.info()
        seen = _volume_xml_facts(source.XMLDesc(0))["format"]
    if source_format is not None and seen != source_format:
        raise InvalidSpec(
            f"libvirt on {uri} reads {source_path} as {seen or 'an unknown format'}, not {source_format}: "
            "copying it would not convert it. Nothing was copied."
        )
    if capacity_bytes is None:
        capacity_bytes = source_capacity
    elif capacity_bytes < source_capacity:
        raise InvalidSpec(
            f"The copy of {source_path} cannot be smaller than its source ({source_capacity} bytes), "
            f"not {capacity_bytes}: that would cut off the end of the disk."
        )
    xml = _volume_xml(name, fmt=format, capacity=capacity_bytes, allocation=_allocation(format, capacity_bytes))
    with _creating(uri, libvirt_pool, pool, name):
        if progress is None:
            volume = libvirt_pool.createXMLFrom(xml, source, 0)
        else:
            volume = _copy_watched(libvirt_pool, name, xml, source, source_allocation, progress)
    try:
        with libvirt_errors(uri):
            _type, capacity, allocated = volume.info()
            short = capacity < capacity_bytes or (format == "raw" and allocated < capacity_bytes)
            if short:
                # For raw, ALLOCATE fallocates the whole file (libvirt's
                # virFileResize from offset 0), filling the holes of the copy too.
                volume.resize(capacity_bytes, libvirt.VIR_STORAGE_VOL_RESIZE_ALLOCATE if format == "raw" else 0)
    except HypervisorError:
        _delete_quietly(uri, volume)
        raise
    return _volume_info(uri, volume)


COPY_PROGRESS_SECONDS = 0.5


def _copy_watched(
    pool: libvirt.virStoragePool, name: str, xml: str, source: libvirt.virStorageVol, total: int,
    progress: Callable[[int, int], None],
) -> libvirt.virStorageVol:
    """createXMLFrom while the new volume's growth is reported."""

    def report() -> None:
        try:
            copied = pool.storageVolLookupByName(name).info()[2]
        except libvirt.libvirtError:
            return  # not created yet, or gone with a failure the copy reports
        progress(min(copied, total), total)

    volume = run_watched(lambda: pool.createXMLFrom(xml, source, 0), report, every=COPY_PROGRESS_SECONDS,
                         name=f"copy {name}")
    progress(total, total)
    return volume


UPLOAD_FORMATS = frozenset({"qcow2", "raw", "iso", "vmdk", "vdi", "vhdx", "vpc"})


def upload_volume(
    uri: str, pool: str, name: str, *, source_file: str, capacity_bytes: int, format: str,
    progress: Callable[[int, int], None] | None = None,
) -> VolumeInfo:
    """A new volume ``name`` in the running pool ``pool`` holding exactly the
    bytes of the local file ``source_file`` (``capacity_bytes`` of them),
    streamed to the host with libvirt's volume upload: the file is read here
    and written there by the host's daemon, so the pool's directory need not
    exist on this machine.

    ``format`` is what the caller found the bytes to be (qcow2, raw, iso,
    vmdk...); the volume is created as a raw file of the file's length and
    the bytes replace it whole, so the host never runs qemu-img on them.
    ``progress(sent, total)`` is called after each chunk. A volume whose
    upload fails is deleted again. (libvirt's test driver has no volume
    upload: NotSupported there.)
    """
    _check_volume_name(name)
    _one_of("Image format", format, UPLOAD_FORMATS)
    _positive_int("Upload size (bytes)", capacity_bytes)
    xml = _volume_xml(name, fmt="raw", capacity=capacity_bytes, allocation=0)
    conn = get_connection(uri)
    libvirt_pool = _running_pool(conn, uri, pool)
    with _creating(uri, libvirt_pool, pool, name):
        volume = libvirt_pool.createXML(xml, 0)
    sent = 0

    def read_chunk(_stream: libvirt.virStream, nbytes: int, handle) -> bytes:
        nonlocal sent
        chunk = handle.read(min(nbytes, capacity_bytes - sent))
        sent += len(chunk)
        if chunk and progress is not None:
            progress(sent, capacity_bytes)
        return chunk

    try:
        with libvirt_errors(uri), open(source_file, "rb") as handle:
            stream = conn.newStream(0)
            volume.upload(stream, 0, capacity_bytes, 0)
            try:
                stream.sendAll(read_chunk, handle)
                stream.finish()
            except BaseException:
                with suppress(libvirt.libvirtError):
                    stream.abort()
                raise
        if sent != capacity_bytes:
            raise InvalidSpec(f"{source_file} has {sent} bytes, not the {capacity_bytes} announced.")
    except BaseException:
        _delete_quietly(uri, volume)
        raise
    with libvirt_errors(uri):
        libvirt_pool.refresh(0)  # the volume's figures as the host sees the new bytes
        volume = libvirt_pool.storageVolLookupByName(name)
    return _volume_info(uri, volume)


def overlay_volume(uri: str, pool: str, name: str, *, backing_path: str, backing_format: str) -> VolumeInfo:
    """A new qcow2 volume whose backing file is ``backing_path``: a linked clone.

    Instant whatever the size of the backing image (only the metadata is
    written); reads of clusters the clone has not written come from the
    backing file, which must therefore never change while clones exist. The
    clone has the backing image's capacity.

    ``backing_format`` is written into the clone as given and never probed
    (guessing a format from content lets a guest that wrote a qcow2 header
    into a raw image point the host at any file): it must be what the caller
    knows the backing image to be. The backing file must be a volume of a pool
    on the host, like ``copy_volume``'s source.
    """
    _check_volume_name(name)
    _one_of("Backing format", backing_format, VOLUME_FORMATS)
    backing_path = _absolute_path("Backing path", backing_path)
    conn = get_connection(uri)
    libvirt_pool = _running_pool(conn, uri, pool)
    backing = _volume_at(conn, uri, backing_path)
    with libvirt_errors(uri):
        capacity = backing.info()[1]
    xml = _volume_xml(
        name, fmt="qcow2", capacity=capacity, allocation=0, backing=(backing_path, backing_format)
    )
    with _creating(uri, libvirt_pool, pool, name):
        volume = libvirt_pool.createXML(xml, 0)
    return _volume_info(uri, volume)


def delete_volume(uri: str, path: str) -> bool:
    """Delete the volume (its file) at ``path``; return whether there was one.

    Idempotent: a missing volume is not an error (a retried job, or a file
    already removed by hand). A file outside the directories of the running
    pools is not a volume and is left alone (False). Nothing checks that no domain uses the
    volume: that is the caller's rule to keep.
    """
    path = _absolute_path("Volume path", path)
    conn = get_connection(uri)
    try:
        volume = _volume_at(conn, uri, path)
    except NotFound:
        return False
    try:
        with libvirt_errors(uri):
            volume.delete(0)
    except NotFound:
        return False  # deleted by someone else meanwhile
    return True


def resize_volume(uri: str, path: str, *, capacity_bytes: int) -> VolumeInfo:
    """Grow the volume at ``path`` to ``capacity_bytes`` (a shrink is refused:
    it would cut the disk). libvirt's test:/// driver cannot resize volumes."""
    path = _absolute_path("Volume path", path)
    _check_capacity(capacity_bytes)
    conn = get_connection(uri)
    volume = _volume_at(conn, uri, path)
    with libvirt_errors(uri):
        if volume.info()[1] > capacity_bytes:
            raise InvalidSpec(f"The volume {path} is larger than {capacity_bytes} bytes; a volume only grows.")
        volume.resize(capacity_bytes, 0)
    return _volume_info(uri, volume)


def volume_by_path(uri: str, path: str) -> VolumeInfo:
    """The volume at ``path`` (NotFound if no pool on the host has that file)."""
    path = _absolute_path("Volume path", path)
    conn = get_connection(uri)
    return _volume_info(uri, _volume_at(conn, uri, path))


MAX_CHAIN_DEPTH = 64  # a longer chain is a loop or a mistake, never a real disk


def volume_chain(uri: str, path: str) -> list[VolumeInfo]:
    """The volume at ``path`` and its backing files, top first: one entry for
    a standalone volume, two for a thin clone of a template disk, more past
    snapshots. A backing file no pool on the host holds ends the chain with a
    bare entry (its path, sizes 0) rather than an error: the disk's page must
    still show what it leans on."""
    chain = [volume_by_path(uri, path)]
    while chain[-1].backing_path and len(chain) < MAX_CHAIN_DEPTH:
        backing = chain[-1].backing_path
        try:
            chain.append(volume_by_path(uri, backing))
        except NotFound:
            chain.append(VolumeInfo(name=posixpath.basename(backing), path=backing, capacity_bytes=0,
                                    allocation_bytes=0, format=""))
    return chain


def _check_volume_name(name: str) -> None:
    """A volume name is a file name in the pool's directory: no way out of it."""
    _xml_text("Volume name", name, single_line=True)
    if not name.strip():
        raise InvalidSpec("The volume name must not be empty.")
    if "/" in name:
        raise InvalidSpec(f"The volume name {name!r} contains '/': it must be a plain file name.")
    if ".." in name:
        raise InvalidSpec(f"The volume name {name!r} contains '..': it must be a plain file name.")
    if name.startswith("."):
        raise InvalidSpec(f"The volume name {name!r} starts with '.': that would be a hidden file.")
    if len(name.encode()) > MAX_VOLUME_NAME_BYTES:
        raise InvalidSpec(f"The volume name is longer than {MAX_VOLUME_NAME_BYTES} bytes.")


def _check_capacity(capacity_bytes: int) -> None:
    _positive_int("Volume capacity (bytes)", capacity_bytes)
    if capacity_bytes % SECTOR:
        raise InvalidSpec(f"The volume capacity must be a multiple of {SECTOR} bytes, not {capacity_bytes}.")


def _absolute_path(what: str, path: str) -> str:
    _xml_text(what, path, single_line=True)
    if not path.startswith("/"):
        raise InvalidSpec(f"{what} must be absolute, not {path!r}.")
    return _normal_path(path)


def _allocation(fmt: str, capacity: int) -> int:
    # libvirt's dir backend fallocates <allocation> bytes of a new raw file;
    # for qcow2 it is ignored (qemu-img decides), 0 says what we mean.
    return capacity if fmt == "raw" else 0


def _volume_xml(
    name: str, *, fmt: str, capacity: int, allocation: int, backing: tuple[str, str] | None = None
) -> str:
    root = etree.Element("volume", type="file")
    etree.SubElement(root, "name").text = name
    etree.SubElement(root, "capacity", unit="bytes").text = str(capacity)
    etree.SubElement(root, "allocation", unit="bytes").text = str(allocation)
    target = etree.SubElement(root, "target")
    etree.SubElement(target, "format", type=fmt)
    if fmt == "qcow2":
        etree.SubElement(target, "compat").text = QCOW2_COMPAT
    if backing is not None:
        store = etree.SubElement(root, "backingStore")
        etree.SubElement(store, "path").text = backing[0]
        etree.SubElement(store, "format", type=backing[1])
    return etree.tostring(root, encoding="unicode")


def _volume_exists(uri: str, pool: libvirt.virStoragePool, name: str) -> bool:
    try:
        with libvirt_errors(uri):
            pool.storageVolLookupByName(name)
    except NotFound:
        return False
    return True


@contextmanager
def _creating(uri: str, pool: libvirt.virStoragePool, pool_name: str, name: str) -> Iterator[None]:
    """Run a volume creation: Conflict if ``name`` is taken, before or during.

    The pool is refreshed first so that a file put there behind libvirt's back
    counts as taken too. libvirt reports a clash in several ways (STORAGE_VOL_EXIST,
    "target path already exists"...), so after a failure we look again.
    """
    conflict = Conflict(
        f"A volume named {name!r} already exists in the storage pool {pool_name!r} on {uri}.", uri=uri
    )
    with libvirt_errors(uri):
        pool.refresh(0)
    if _volume_exists(uri, pool, name):
        raise conflict
    try:
        with libvirt_errors(uri):
            yield
    except HypervisorError as exc:
        try:
            with libvirt_errors(uri):
                pool.refresh(0)
            taken = _volume_exists(uri, pool, name)
        except HypervisorError:
            taken = False  # cannot tell: the original error stands
        if taken:
            raise conflict from exc
        raise


def _volume_at(conn: libvirt.virConnect, uri: str, path: str) -> libvirt.virStorageVol:
    """The volume whose file is ``path``, refreshing the pools over its
    directory when libvirt has not seen it yet (a file copied in by hand or
    by an upload)."""
    try:
        with libvirt_errors(uri):
            return conn.storageVolLookupByPath(path)
    except NotFound:
        pass
    directory = posixpath.dirname(path)
    with libvirt_errors(uri):
        pools = conn.listAllStoragePools(libvirt.VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE)
    refreshed = False
    for pool in pools:
        try:
            with libvirt_errors(uri):
                _type, _name, target = _pool_identity(pool.XMLDesc(0))
                if target and _normal_path(target) == directory:
                    pool.refresh(0)
                    refreshed = True
        except NotFound:
            continue  # removed while we were looking
    if refreshed:
        try:
            with libvirt_errors(uri):
                return conn.storageVolLookupByPath(path)
        except NotFound:
            pass
    raise NotFound(
        f"No storage volume at {path} on {uri}: the file is missing, or not in the directory of a running pool.",
        uri=uri,
    )


def _volume_info(uri: str, volume: libvirt.virStorageVol) -> VolumeInfo:
    with libvirt_errors(uri):
        _type, capacity, allocation = volume.info()
        return VolumeInfo(
            name=volume.name(),
            path=volume.path(),
            capacity_bytes=capacity,
            allocation_bytes=allocation,
            **_volume_xml_facts(volume.XMLDesc(0)),
        )


def _delete_quietly(uri: str, volume: libvirt.virStorageVol) -> None:
    try:
        with libvirt_errors(uri):
            volume.delete(0)
    except HypervisorError:
        pass  # the original error is what the caller must see


def _volume_xml_facts(xml: str) -> dict[str, str]:
    """The format and the backing file (of a qcow2 overlay) from a volume's XML."""
    try:
        root = etree.fromstring(xml.encode(), _SAFE_PARSER)
    except etree.XMLSyntaxError as exc:
        raise InvalidXML(f"The volume XML is not well-formed: {exc}") from None
    element = root.find("target/format")
    backing = root.findtext("backingStore/path") or ""
    return {"format": element.get("type", "") if element is not None else "", "backing_path": backing.strip()}


