"""Uploads land in a temporary file the portal owns, never on a storage domain.

A multipart upload is never held in memory: the request's upload handlers are
replaced, before the body is read, by ``BoundedUploadHandler``, Django's
temporary-file handler (FILE_UPLOAD_TEMP_DIR) that refuses a file larger than
``settings.IMAGE_UPLOAD_MAX_BYTES`` as soon as it grows past it. From there
the image service checks the bytes and streams them to the storage domain
through libvirt on the SPM host (``inventory.services.images``): the portal
may run on a machine that sees no storage at all.

The temporary file is deleted when the request closes its files, whatever
became of the upload, even when the request failed before any service saw it.
"""

from __future__ import annotations

import contextlib
import os
import tempfile

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, TemporaryFileUploadHandler
from django.template.defaultfilters import filesizeformat

from core.errors import InvalidInput


def discard(path: str) -> None:
    """Remove ``path`` if it is still there."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


class BoundedUploadHandler(TemporaryFileUploadHandler):
    """Django's disk upload handler, stopping at IMAGE_UPLOAD_MAX_BYTES."""

    def __init__(self, request=None):
        super().__init__(request)
        self.limit = settings.IMAGE_UPLOAD_MAX_BYTES
        self.received = 0

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            self.file.close()  # a temporary file: closing it deletes it
            raise InvalidInput(f"The file is larger than the {filesizeformat(self.limit)} an upload may have "
                               "(IMAGE_UPLOAD_MAX_BYTES).")
        return super().receive_data_chunk(raw_data, start)


def upload_handlers_for(request) -> list[FileUploadHandler]:
    """Disk-only, bounded handlers for ``request`` (a Django HttpRequest whose
    body has not been read). Never in memory, never on a storage domain."""
    return [BoundedUploadHandler(request)]


def uploaded_file_path(uploaded: UploadedFile) -> str:
    """The path of ``uploaded`` on disk. An upload that was kept in memory (the
    handlers were not replaced) is written to FILE_UPLOAD_TEMP_DIR first."""
    if hasattr(uploaded, "temporary_file_path"):
        return uploaded.temporary_file_path()
    fd, path = tempfile.mkstemp(prefix="upload-", suffix=".part", dir=settings.FILE_UPLOAD_TEMP_DIR)
    with os.fdopen(fd, "wb") as out:
        for chunk in uploaded.chunks():
            out.write(chunk)
    return path
