"""A running domain's screen as PNG bytes (for thumbnails and "what is it doing").

libvirt's screenshot API hands the image over a stream in a format of the
driver's choosing, named by the MIME type it returns: PPM from older QEMU, PNG
from QEMU 7.1+ with libvirt 9 (what these hosts give: ``image/png``), a fixed
PNG from the test driver. Pillow reads whichever it is and we always return
PNG, so callers never see the difference; a PNG that needs no scaling is
passed through untouched (no re-encoding of every poll).

The whole image is held in memory; ``MAX_SCREENSHOT_BYTES`` bounds what we
accept, so a confused driver cannot make a worker allocate without limit.
"""

from __future__ import annotations

import io

import libvirt
from PIL import Image, UnidentifiedImageError

from hypervisor.connection import get_connection
from hypervisor.domains import _lookup, _require_state
from hypervisor.errors import HypervisorError, InvalidSpec, libvirt_errors

# A 4K screen as uncompressed PPM is ~25 MB; twice that leaves room and still
# stops a runaway stream.
MAX_SCREENSHOT_BYTES = 64 * 1024**2

_ACTIVE = frozenset({"running", "blocked", "paused"})  # a paused guest still shows its last frame


class _TooLarge(Exception):
    pass


def domain_screenshot_png(uri: str, uuid: str, *, max_width: int | None = None) -> bytes:
    """PNG of the domain's first screen, scaled down to ``max_width`` pixels
    wide (aspect kept, never scaled up) when given.

    Conflict when the domain is shut off: there is no screen (the test driver
    would hand back its canned picture anyway, QEMU refuses).
    """
    if max_width is not None and (isinstance(max_width, bool) or not isinstance(max_width, int) or max_width <= 0):
        raise InvalidSpec(f"The thumbnail width must be a positive whole number, not {max_width!r}.")
    conn = get_connection(uri)
    domain = _lookup(uri, uuid)
    with libvirt_errors(uri):
        _require_state(uri, domain, _ACTIVE, "take a screenshot of")
        data = _receive(uri, conn, domain)
    return _to_png(uri, data, max_width)


def _receive(uri: str, conn: libvirt.virConnect, domain: libvirt.virDomain) -> bytes:
    stream = conn.newStream(0)
    chunks: list[bytes] = []
    received = 0

    def collect(_stream: libvirt.virStream, chunk: bytes, _opaque: object) -> int:
        nonlocal received
        received += len(chunk)
        if received > MAX_SCREENSHOT_BYTES:
            raise _TooLarge  # recvAll aborts the stream, then re-raises
        chunks.append(chunk)
        return len(chunk)

    try:
        domain.screenshot(stream, 0, 0)
        stream.recvAll(collect, None)
        stream.finish()
    except _TooLarge:
        raise HypervisorError(
            f"The screenshot from {uri} is larger than {MAX_SCREENSHOT_BYTES // 1024**2} MiB; refused.", uri=uri
        ) from None
    except libvirt.libvirtError:
        _abort(stream)
        raise  # translated by the caller's libvirt_errors
    return b"".join(chunks)


def _abort(stream: libvirt.virStream) -> None:
    try:
        stream.abort()
    except libvirt.libvirtError:
        pass  # already aborted or finished: nothing left to release


def _to_png(uri: str, data: bytes, max_width: int | None) -> bytes:
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise HypervisorError(f"The screenshot from {uri} is not an image we can read: {exc}", uri=uri) from exc
    if max_width is not None and image.width > max_width:
        height = max(1, round(image.height * max_width / image.width))
        image = image.resize((max_width, height), Image.Resampling.LANCZOS)
    elif image.format == "PNG":
        return data
    if image.mode not in ("RGB", "RGBA", "L", "LA", "P"):
        image = image.convert("RGB")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
