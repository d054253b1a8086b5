"""Input checks shared by the API serializers and the UI forms, so both faces
refuse the same things with the same words."""

from __future__ import annotations

from pathlib import PurePosixPath

import hypervisor
from core.errors import InvalidInput
from hypervisor.storage import nfs_host_check
from inventory.choices import StorageType


def storage_path_clean(path: str) -> str:
    pure = PurePosixPath(path)
    if not pure.is_absolute() or ".." in pure.parts:
        raise InvalidInput("Give an absolute path without '..', e.g. /srv/storage/data.")
    return str(pure)


def storage_source_errors(*, storage_type: str, nfs_server: str, nfs_export: str) -> dict[str, str]:
    """Field -> message for the NFS fields of a storage domain: an NFS domain
    needs a server (host name or address) and an absolute export path; any
    other type has neither. Empty when all is well."""
    errors = {}
    if storage_type != StorageType.NFS:
        for field, value in (("nfs_server", nfs_server), ("nfs_export", nfs_export)):
            if value:
                errors[field] = (f"Only an NFS storage domain has an {field.replace('nfs_', 'NFS ')}; "
                                 "leave it empty or choose storage type NFS.")
        return errors
    if not nfs_server:
        errors["nfs_server"] = "An NFS storage domain needs the NFS server's host name or address."
    else:
        try:
            nfs_host_check(nfs_server)
        except hypervisor.InvalidSpec as error:
            errors["nfs_server"] = error.message
    if not nfs_export:
        errors["nfs_export"] = "An NFS storage domain needs the exported directory, e.g. /exports/data."
    else:
        try:
            storage_path_clean(nfs_export)
        except InvalidInput:
            errors["nfs_export"] = "Give the export as an absolute path on the server without '..', e.g. /exports/data."
    return errors
