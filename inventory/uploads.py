"""Streaming uploads straight onto a storage domain's file system.

A multipart upload is never held in memory: the request's upload handlers are
replaced, before the body is read, by ``DomainUploadHandler`` (which writes the
file into ``<domain path>/.uploads/``, so that keeping it is a rename on the same
file system) or, when the domain is not known before the body is read, by
Django's ``TemporaryFileUploadHandler`` (FILE_UPLOAD_TEMP_DIR; keeping the file
is then a copy). The domain is known early from the query parameter
``?storage_domain=<id>``; the form field of the same name is still required.

An upload that is not kept is deleted when the request closes its files, even
when the request failed before any service saw the file.
"""

from __future__ import annotations

import contextlib
import os
import tempfile

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, TemporaryFileUploadHandler

from inventory.models import StorageDomain

UPLOADS_DIR = ".uploads"
QUERY_PARAMETER = "storage_domain"


def domain_uploads_dir(domain: StorageDomain) -> str:
    return os.path.join(domain.path, UPLOADS_DIR)


def discard(path: str) -> None:
    """Remove ``path`` if it is still there."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def tidy_uploads_dir(directory: str) -> None:
    """Remove an uploads directory that no other upload is using."""
    with contextlib.suppress(OSError):
        os.rmdir(directory)


class DomainUploadedFile(UploadedFile):
    """An uploaded file being written into ``directory``; removed on close
    unless it was moved away first."""

    def __init__(self, directory: str, name, content_type, size, charset, content_type_extra=None):
        self._directory = directory
        for attempt in range(3):
            os.makedirs(directory, mode=0o700, exist_ok=True)
            try:
                fd, self._path = tempfile.mkstemp(prefix="upload-", suffix=".part", dir=directory)
                break
            except FileNotFoundError:  # another request's close() removed the empty directory
                if attempt == 2:
                    raise
        super().__init__(os.fdopen(fd, "w+b"), name, content_type, size, charset, content_type_extra)

    def temporary_file_path(self) -> str:
        return self._path

    def close(self):
        try:
            return self.file.close()
        finally:
            discard(self._path)
            tidy_uploads_dir(self._directory)


class DomainUploadHandler(TemporaryFileUploadHandler):
    """Django's disk upload handler, writing into ``directory``."""

    def __init__(self, request=None, *, directory: str):
        super().__init__(request)
        self.directory = directory

    def new_file(self, *args, **kwargs):
        FileUploadHandler.new_file(self, *args, **kwargs)
        self.file = DomainUploadedFile(
            self.directory, self.file_name, self.content_type, 0, self.charset, self.content_type_extra
        )


def upload_handlers_for(request) -> list[FileUploadHandler]:
    """Disk-only handlers for ``request`` (a Django HttpRequest whose body has not
    been read): onto the domain named by ``?storage_domain=`` when that domain's
    directory exists here, else into FILE_UPLOAD_TEMP_DIR. Never in memory."""
    wanted = request.GET.get(QUERY_PARAMETER, "")
    domain = StorageDomain.objects.filter(pk=int(wanted)).first() if wanted.isdigit() and len(wanted) < 19 else None
    if domain is not None and os.path.isdir(domain.path):
        return [DomainUploadHandler(request, directory=domain_uploads_dir(domain))]
    return [TemporaryFileUploadHandler(request)]


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
