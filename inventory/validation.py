"""Input checks shared by the API serializers and the UI forms, so both faces
refuse the same things with the same words."""

from __future__ import annotations

from pathlib import PurePosixPath

from core.errors import InvalidInput


def storage_path_clean(path: str) -> str:
    pure = PurePosixPath(path)
    if not pure.is_absolute() or ".." in pure.parts:
        raise InvalidInput("Give an absolute path without '..', e.g. /srv/storage/data.")
    return str(pure)
