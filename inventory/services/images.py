"""Disk images and ISOs uploaded onto storage domains.

``image_upload`` takes a file the portal holds in a temporary place of its own
(streamed there by ``inventory.uploads``), checks those very bytes with
qemu-img (``hypervisor.qemu_img``: the rules deciding what is a disk image or
an ISO are there; a qcow2 whose backing file points anywhere is refused before
anything reaches a host), then streams them through libvirt into a new volume
``<uuid>.<ext>`` of the domain's images pool (``<domain path>/images``) on the
data center's SPM host. The portal never opens the domain's directory: it may
run on a machine that cannot see it. Whatever happens, the temporary file is
deleted: nothing is left behind.

``image_remove`` deletes the volume through libvirt on the SPM host too,
unless a job is copying the image (a template being made from it holds the
image as its job's target: that is the image's lock).

``image_copy_problem`` says whether an image can be the source of a copy (a
VM's disk, a template's): one rule for both.

Where an image may go: a disk image on a data domain; an ISO on an ISO or a
data domain; never on an export domain. The domain must be unattached or active
(an unattached domain's directory is reached through its data center's SPM just
the same); inactive or locked domains refuse.
"""

from __future__ import annotations

import os
import uuid

from django.db import IntegrityError, transaction
from django.template.defaultfilters import filesizeformat

import hypervisor
from django.contrib.contenttypes.models import ContentType

from core.errors import Conflict, HypervisorUnavailable, InvalidInput
from core.events import event_record
from core.models import Job, JobStatus
from hypervisor.qemu_img import InvalidImage, image_inspect
from inventory.choices import ImageContent, ImageStatus, StorageDomainStatus, StorageDomainType
from inventory.models import Host, Image, StorageDomain
from inventory.services.hosts import host_call
from inventory.services.spm import spm_required
from inventory.services.storage import storage_images_pool_ensure
from inventory.uploads import discard

IMAGES_DIR = "images"
DOMAIN_TYPES_FOR_CONTENT = {
    ImageContent.DISK: (StorageDomainType.DATA,),
    ImageContent.ISO: (StorageDomainType.ISO, StorageDomainType.DATA),
}
UPLOADABLE_DOMAIN_STATES = (StorageDomainStatus.UNATTACHED, StorageDomainStatus.ACTIVE)
EXTENSIONS = {"raw": "img", "vpc": "vhd"}


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
    if Image.objects.filter(storage_domain=domain, name=name).exists():
        raise InvalidInput(f"Storage domain {domain.name} already has an image named {name}.")


def _through_spm(domain: StorageDomain, operation):
    """``operation(uri, pool)`` on the images pool of ``domain`` on its data
    center's SPM host (the pool made sure of first): Conflict when there is no
    SPM up, 503 naming the host when it fails."""
    spm: Host = spm_required(data_center=domain.data_center)
    try:
        return host_call(spm, lambda uri: operation(uri, storage_images_pool_ensure(domain=domain, host=spm)))
    except hypervisor.HypervisorError as error:
        raise HypervisorUnavailable(error.message) from error


def image_upload(*, storage_domain: StorageDomain, name: str, content: str, uploaded_path, user) -> Image:
    """Keep the uploaded file at ``uploaded_path`` (the portal's temporary copy)
    as an image on ``storage_domain``, streamed there through the SPM host, or
    raise InvalidInput naming the problem. The file is deleted either way."""
    uploaded_path = str(uploaded_path)
    name = (name or "").strip()
    try:
        _check_target(domain=storage_domain, name=name, content=content)
        try:
            info = image_inspect(uploaded_path, content=content)
        except InvalidImage as error:
            raise InvalidInput(error.message) from error
        volume_name = f"{uuid.uuid4()}.{EXTENSIONS.get(info.format, info.format)}"
        size = os.path.getsize(uploaded_path)
        volume = _through_spm(
            storage_domain,
            lambda uri, pool: hypervisor.upload_volume(uri, pool, volume_name, source_file=uploaded_path,
                                                       capacity_bytes=size, format=info.format),
        )
    finally:
        discard(uploaded_path)
    try:
        with transaction.atomic():
            image = Image.objects.create(
                name=name, storage_domain=storage_domain, content=content, format=info.format,
                virtual_size_bytes=info.virtual_size_bytes, actual_size_bytes=volume.allocation_bytes,
                path=volume.path, status=ImageStatus.OK,
                owner=user if user is not None and user.is_authenticated else None,
            )
            event_record(
                code="image.uploaded", target=image, user=user,
                message=(f"{ImageContent.label(content)} {name} ({info.format}, "
                         f"{filesizeformat(info.virtual_size_bytes)}) was uploaded to storage domain "
                         f"{storage_domain.name} by {user}."),
            )
    except IntegrityError as error:
        _volume_delete(storage_domain, volume.path)
        raise InvalidInput(f"Storage domain {storage_domain.name} already has an image named {name}.") from error
    except BaseException:
        _volume_delete(storage_domain, volume.path)
        raise
    return image


def _volume_delete(domain: StorageDomain, path: str) -> None:
    _through_spm(domain, lambda uri, _pool: hypervisor.delete_volume(uri, path))


def image_copy_problem(image: Image) -> str:
    """Why ``image`` cannot be copied into a disk or a template ("" when it can):
    it must be a disk image that is ready, of a format the hosts' libvirt reads
    (the copy converts it there; the format is the one detected at upload)."""
    if image.content != ImageContent.DISK or image.status != ImageStatus.OK:
        return f"Image {image.name} is not a ready disk image."
    if image.format not in hypervisor.COPY_SOURCE_FORMATS:
        return (f"Image {image.name} is a {image.format or 'disk'} image, which libvirt on the hosts cannot read "
                f"(it would copy the file's bytes as they are, not the disk inside). Convert it to qcow2 first "
                f"(qemu-img convert -O qcow2 {image.name} out.qcow2) and upload that; copies are made from "
                f"{', '.join(sorted(hypervisor.COPY_SOURCE_FORMATS))} images.")
    return ""


def image_job(image: Image) -> Job | None:
    """The job copying the image now, if any (its target is the image)."""
    return Job.objects.filter(target_type=ContentType.objects.get_for_model(Image), target_id=str(image.pk),
                              status__in=JobStatus.ACTIVE).first()


def image_remove(*, image: Image, user) -> None:
    """Remove an image and its volume (through libvirt on the SPM host). Disks
    and templates made from an image are copies of it, so nothing else reads
    the file. The volume goes first: a host that fails leaves the image listed,
    to be removed again."""
    name, domain = image.name, image.storage_domain
    job = image_job(image)
    if job is not None:
        raise Conflict(f"Image {name} is being copied by job #{job.pk} ({job.title}); remove it when that ends.")
    if image.path:
        _volume_delete(domain, image.path)
    with transaction.atomic():
        image.delete()
        event_record(code="image.removed", user=user, target=domain,
                     message=f"Image {name} was removed from storage domain {domain.name} by {user}.")
