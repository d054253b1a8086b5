"""Disk images and ISOs uploaded onto storage domains.

``image_upload`` takes a file that is already on disk (streamed there by
``inventory.uploads``), checks it with qemu-img (``hypervisor.qemu_img``: the
rules deciding what is a disk image or an ISO are there) and keeps it as
``<domain path>/images/<uuid>.<ext>``. Whatever refuses the upload, the
uploaded file is deleted: nothing is left behind.

Where an image may go: a disk image on a data domain; an ISO on an ISO or a
data domain; never on an export domain. The domain must be unattached or active
(unattached is accepted because attaching domains is new: the files are on the
portal's file system either way); inactive or locked domains refuse.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path

from django.db import IntegrityError, transaction
from django.template.defaultfilters import filesizeformat

from core.errors import InvalidInput
from core.events import event_record
from hypervisor.qemu_img import InvalidImage, image_inspect
from inventory.choices import ImageContent, ImageStatus, StorageDomainStatus, StorageDomainType
from inventory.models import Image, StorageDomain
from inventory.uploads import discard, domain_uploads_dir, tidy_uploads_dir

IMAGES_DIR = "images"
DOMAIN_TYPES_FOR_CONTENT = {
    ImageContent.DISK: (StorageDomainType.DATA,),
    ImageContent.ISO: (StorageDomainType.ISO, StorageDomainType.DATA),
}
UPLOADABLE_DOMAIN_STATES = (StorageDomainStatus.UNATTACHED, StorageDomainStatus.ACTIVE)
EXTENSIONS = {"raw": "img", "vpc": "vhd"}
FILE_MODE = 0o644


def _tidy(domain: StorageDomain) -> None:
    tidy_uploads_dir(domain_uploads_dir(domain))


def _check_target(*, domain: StorageDomain, name: str, content: str) -> None:
    if not name:
        raise InvalidInput("Give the image a name.")
    if content not in DOMAIN_TYPES_FOR_CONTENT:
        raise InvalidInput(f"Unknown content {content!r}: choose disk or iso.")
    if domain.domain_type not in DOMAIN_TYPES_FOR_CONTENT[content]:
        raise InvalidInput(
            f"Storage domain {domain.name} is an {StorageDomainType.label(domain.domain_type)} domain: "
            "disk images go on a data domain, ISOs on an ISO or a data domain."
        )
    if domain.status not in UPLOADABLE_DOMAIN_STATES:
        raise InvalidInput(
            f"Storage domain {domain.name} is {StorageDomainStatus.label(domain.status).lower()}; "
            "upload to an active (or unattached) domain."
        )
    if not os.path.isdir(domain.path):
        raise InvalidInput(f"The directory of storage domain {domain.name} ({domain.path}) does not exist.")
    if Image.objects.filter(storage_domain=domain, name=name).exists():
        raise InvalidInput(f"Storage domain {domain.name} already has an image named {name}.")


def _move_into(source: str, target: str) -> None:
    """Move ``source`` to ``target`` so that ``target`` appears whole: a rename
    on the same file system, else a copy next to the target, then a rename."""
    try:
        os.rename(source, target)
    except OSError:
        fd, partial = tempfile.mkstemp(prefix="copy-", suffix=".part", dir=os.path.dirname(target))
        try:
            with os.fdopen(fd, "wb") as out, open(source, "rb") as src:
                shutil.copyfileobj(src, out, 1024 * 1024)
            os.rename(partial, target)
        except BaseException:
            discard(partial)
            raise
        discard(source)
    os.chmod(target, FILE_MODE)


def image_upload(*, storage_domain: StorageDomain, name: str, content: str, uploaded_path, user) -> Image:
    """Keep the uploaded file at ``uploaded_path`` as an image on ``storage_domain``,
    or delete it and raise InvalidInput naming the problem."""
    uploaded_path = os.fspath(uploaded_path)
    name = (name or "").strip()
    try:
        _check_target(domain=storage_domain, name=name, content=content)
        try:
            info = image_inspect(uploaded_path, content=content)
        except InvalidImage as error:
            raise InvalidInput(error.message) from error
        images_dir = os.path.join(storage_domain.path, IMAGES_DIR)
        os.makedirs(images_dir, exist_ok=True)
        target = os.path.join(images_dir, f"{uuid.uuid4()}.{EXTENSIONS.get(info.format, info.format)}")
        _move_into(uploaded_path, target)
    except BaseException:
        discard(uploaded_path)
        _tidy(storage_domain)
        raise
    _tidy(storage_domain)
    try:
        with transaction.atomic():
            image = Image.objects.create(
                name=name, storage_domain=storage_domain, content=content, format=info.format,
                virtual_size_bytes=info.virtual_size_bytes, actual_size_bytes=info.actual_size_bytes,
                path=target, status=ImageStatus.OK,
                owner=user if user is not None and user.is_authenticated else None,
            )
            event_record(
                code="image.uploaded", target=image, user=user,
                message=(f"{ImageContent.label(content)} {name} ({info.format}, "
                         f"{filesizeformat(info.virtual_size_bytes)}) was uploaded to storage domain "
                         f"{storage_domain.name} by {user}."),
            )
    except IntegrityError as error:
        discard(target)
        raise InvalidInput(f"Storage domain {storage_domain.name} already has an image named {name}.") from error
    except BaseException:
        discard(target)
        raise
    return image


def image_remove(*, image: Image, user) -> None:
    """Remove an image and its file. Disks and templates made from an image
    are copies of it, so nothing else reads the file."""
    path = Path(image.path)
    name, domain = image.name, image.storage_domain
    with transaction.atomic():
        image.delete()
        event_record(code="image.removed", user=user, target=domain,
                     message=f"Image {name} was removed from storage domain {domain.name} by {user}.")
    path.unlink(missing_ok=True)
