"""qemu-img, the program (not libvirt): what a disk image file is.

``image_info(path)`` runs ``qemu-img info --output=json --force-share`` (an
argument list, never a shell; bounded by a timeout) and reads the format and the
sizes. ``image_inspect(path, content=...)`` adds the rules qemu-img alone cannot
give: qemu-img calls *any* file "raw" (a text file is a valid raw image), so:

- ``content="iso"``: the file must carry the ISO 9660 signature, ``CD001`` at
  byte 0x8001 (the first volume descriptor, sector 16), and qemu-img must see
  it as raw (an ISO wrapped in qcow2 is refused). Its format is then ``iso``.
- ``content="disk"``: qcow2, vmdk, vdi, vhdx and vpc are accepted as detected.
  A raw file is accepted when it looks like a disk: an MBR/GPT boot signature
  (0x55 0xAA at offset 510), or else a non-empty size that is a multiple of 512
  bytes *and* a first 64 KiB that is not text (text = no NUL byte and valid
  UTF-8). A file with the ISO signature is refused as a disk (upload it as an
  ISO). Any other format qemu-img knows (dmg, cloop, parallels...) is refused.
- An image that refers to another file is refused: a backing file, an external
  data file (qcow2 ``data-file``), or a vmdk whose extents are other files.
  Those paths would be on the uploader's machine, or worse, on ours.

Plain Python, no Django; errors are ``HypervisorError`` subclasses, the message
is for a human.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass

from hypervisor.errors import HypervisorError

QEMU_IMG = "qemu-img"
TIMEOUT_SECONDS = 60
SECTOR = 512
ISO_SIGNATURE = b"CD001"
ISO_SIGNATURE_OFFSET = 0x8001
BOOT_SIGNATURE = b"\x55\xaa"
BOOT_SIGNATURE_OFFSET = 510
TEXT_SAMPLE_BYTES = 64 * 1024

DISK_FORMATS = frozenset({"qcow2", "vmdk", "vdi", "vhdx", "vpc"})
CONTENTS = frozenset({"disk", "iso"})


class QemuImgError(HypervisorError):
    """qemu-img could not be run, or did not answer in time."""


class InvalidImage(HypervisorError):
    """The file is not an image we accept; ``message`` says why."""


@dataclass(frozen=True)
class ImageInfo:
    format: str  # as qemu-img detects it (qcow2, raw, vmdk...), or "iso" after image_inspect
    virtual_size_bytes: int
    actual_size_bytes: int
    backing_file: str | None = None
    data_file: str | None = None
    extent_files: tuple[str, ...] = ()


def image_info(path: str | os.PathLike, *, timeout: float = TIMEOUT_SECONDS) -> ImageInfo:
    """What qemu-img says about the file at ``path`` (read only, shared lock).

    The backing chain is not opened (``qemu-img info`` never does without
    ``--backing-chain``); the backing file is only reported.
    """
    path = os.fspath(path)
    command = [QEMU_IMG, "info", "--output=json", "--force-share", "--", path]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except FileNotFoundError as error:
        raise QemuImgError(f"qemu-img is not installed ({error.strerror}).") from error
    except subprocess.TimeoutExpired as error:
        raise QemuImgError(f"qemu-img did not read {path} within {timeout:g} s.") from error
    if done.returncode != 0:
        detail = done.stderr.strip().removeprefix("qemu-img: ") or f"exit status {done.returncode}"
        raise InvalidImage(f"qemu-img cannot read the file as a disk image: {detail}")
    try:
        data = json.loads(done.stdout)
        fmt = str(data["format"])
        virtual = int(data["virtual-size"])
        actual = int(data.get("actual-size", 0))
    except (ValueError, KeyError, TypeError) as error:
        raise QemuImgError(f"qemu-img gave an answer that cannot be read: {error}") from error
    specific = (data.get("format-specific") or {}).get("data") or {}
    extents = tuple(
        str(extent["filename"]) for extent in specific.get("extents", []) if extent.get("filename")
    )
    return ImageInfo(
        format=fmt,
        virtual_size_bytes=virtual,
        actual_size_bytes=actual,
        backing_file=data.get("full-backing-filename") or data.get("backing-filename") or None,
        data_file=specific.get("data-file") or None,
        extent_files=extents,
    )


def _read_at(handle, offset: int, count: int) -> bytes:
    handle.seek(offset)
    return handle.read(count)


def _looks_like_text(sample: bytes) -> bool:
    if not sample or b"\x00" in sample:
        return False
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as error:
        # A sample can end in the middle of a character: only that is forgiven.
        return error.start >= len(sample) - 3 and error.reason == "unexpected end of data"
    return True


def image_inspect(path: str | os.PathLike, *, content: str, timeout: float = TIMEOUT_SECONDS) -> ImageInfo:
    """``image_info`` plus the rules of the module docstring for ``content``
    (``disk`` or ``iso``); raises ``InvalidImage`` naming the problem."""
    if content not in CONTENTS:
        raise InvalidImage(f"Unknown content {content!r}: choose disk or iso.")
    path = os.path.abspath(path)
    size = os.path.getsize(path)
    if size == 0:
        raise InvalidImage("The file is empty.")
    with open(path, "rb") as handle:
        head = _read_at(handle, 0, TEXT_SAMPLE_BYTES)
        boot = _read_at(handle, BOOT_SIGNATURE_OFFSET, len(BOOT_SIGNATURE))
        iso = _read_at(handle, ISO_SIGNATURE_OFFSET, len(ISO_SIGNATURE)) == ISO_SIGNATURE

    info = image_info(path, timeout=timeout)
    if info.backing_file:
        raise InvalidImage(
            f"The {info.format} image has a backing file ({info.backing_file}), which is not uploaded "
            "with it; make a standalone image first (qemu-img convert -O qcow2 in.qcow2 out.qcow2)."
        )
    if info.data_file:
        raise InvalidImage(f"The {info.format} image keeps its data in another file ({info.data_file}); "
                           "make a standalone image first (qemu-img convert).")
    here = os.path.dirname(path)
    if any(os.path.realpath(os.path.join(here, extent)) != os.path.realpath(path) for extent in info.extent_files):
        raise InvalidImage("The vmdk image refers to other files (its extents); upload a single-file "
                           "(monolithic) vmdk or convert it to qcow2.")

    if content == "iso":
        if info.format != "raw":
            raise InvalidImage(f"The file is not an ISO image: it is a {info.format} disk image.")
        if not iso:
            kind = "it looks like text" if _looks_like_text(head) else "it has no ISO 9660 signature"
            raise InvalidImage(f"The file is not an ISO image: {kind}.")
        return ImageInfo("iso", info.virtual_size_bytes, info.actual_size_bytes)

    if info.format in DISK_FORMATS:
        return info
    if info.format != "raw":
        raise InvalidImage(f"The file is a {info.format} image, which is not accepted; "
                           f"convert it to qcow2 or raw.")
    if iso:
        raise InvalidImage("The file is an ISO image, not a disk image: upload it with content iso.")
    if boot == BOOT_SIGNATURE:
        return info
    if _looks_like_text(head):
        raise InvalidImage("The file is not a disk image: it looks like text.")
    if size % SECTOR:
        raise InvalidImage(
            f"The file is not a disk image: it has no partition table and its size ({size} bytes) "
            f"is not a multiple of {SECTOR} bytes."
        )
    return info
