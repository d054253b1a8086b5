"""Uploading disk images and ISOs onto storage domains: the file is streamed to a
temporary file of the portal (never held in memory, never written on the
domain by the portal), recognised with qemu-img, then streamed through libvirt
into a volume of the domain's images pool on the SPM host; the temporary file
is gone afterwards, whatever happened.

libvirt's test driver has no volume upload, so the fast tests check what the
portal decides before anything reaches a host; the tests marked ``real`` send
images to the machine's libvirtd."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from rest_framework.test import APIClient

import hypervisor
from core.errors import Conflict, InvalidInput
from core.models import Event
from inventory.choices import HostStatus, ImageStatus, StorageDomainStatus, StorageDomainType
from inventory.models import Image
from inventory.services.images import image_upload
from inventory.services.storage import storage_pool_name
from tests.hypervisor.test_qemu_img import MIB, mbr_disk, qemu_img_create, text_file, tiny_iso
from tests.inventory.factories import HostFactory, StorageDomainFactory, simulated_host_uri

pytestmark = pytest.mark.django_db
URL = "/api/v1/images/"
TEXT_REFUSED = "The file is not a disk image: it looks like text."


def files_under(directory: Path) -> list[str]:
    """Everything in a directory, hidden entries included."""
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*"))


@pytest.fixture
def data_domain(temp_dir):
    """A data domain whose data center has no SPM: nothing can reach a host."""
    return StorageDomainFactory(path="/nowhere/data", domain_type=StorageDomainType.DATA)


@pytest.fixture
def export_domain(temp_dir):
    return StorageDomainFactory(path="/nowhere/export", domain_type=StorageDomainType.EXPORT)


@pytest.fixture
def uploads(monkeypatch):
    """(file object, path it was written to) for each file the upload handlers completed."""
    seen = []
    real_complete = TemporaryFileUploadHandler.file_complete  # BoundedUploadHandler inherits it

    def record(handler, file_size):
        uploaded = real_complete(handler, file_size)
        seen.append((uploaded, uploaded.temporary_file_path()))
        return uploaded

    monkeypatch.setattr(TemporaryFileUploadHandler, "file_complete", record)
    return seen


def upload(api, path: Path, *, domain, name="image", content="disk"):
    with open(path, "rb") as handle:
        return api.post(URL, {"file": handle, "name": name, "storage_domain": domain.pk, "content": content},
                        format="multipart")


def backed_qcow2(tmp_path: Path) -> Path:
    """A qcow2 whose backing file is a path on the machine it was made on."""
    base = qemu_img_create(tmp_path / "base.qcow2", "16M", "-f", "qcow2")
    return qemu_img_create(tmp_path / "child.qcow2", "16M", "-f", "qcow2", "-b", str(base), "-F", "qcow2")


# --- what the portal decides before anything reaches a host (fast) ----------------


def test_it_refuses_a_text_file_and_deletes_it(tmp_path, data_domain, admin):
    uploaded = text_file(tmp_path / "upload.part")

    with pytest.raises(InvalidInput, match=TEXT_REFUSED):
        image_upload(storage_domain=data_domain, name="notes", content="disk", uploaded_path=uploaded, user=admin)

    assert not uploaded.exists() and not Image.objects.exists()


def test_it_refuses_a_qcow2_whose_backing_file_is_a_host_path(tmp_path, data_domain, admin):
    uploaded = backed_qcow2(tmp_path)

    with pytest.raises(InvalidInput, match=f"has a backing file \\({tmp_path / 'base.qcow2'}\\)"):
        image_upload(storage_domain=data_domain, name="child", content="disk", uploaded_path=uploaded, user=admin)

    assert not uploaded.exists() and not Image.objects.exists()


@pytest.mark.parametrize("domain_type, status, content, words", [
    (StorageDomainType.EXPORT, StorageDomainStatus.ACTIVE, "disk", "is an Export domain"),
    (StorageDomainType.ISO, StorageDomainStatus.ACTIVE, "disk", "disk images go on a data domain"),
    (StorageDomainType.DATA, StorageDomainStatus.INACTIVE, "disk", "is inactive"),
    (StorageDomainType.DATA, StorageDomainStatus.LOCKED, "iso", "is locked"),
])
def test_it_refuses_a_domain_that_cannot_take_the_image(tmp_path, admin, domain_type, status, content, words):
    domain = StorageDomainFactory(path="/nowhere", domain_type=domain_type, status=status)
    uploaded = mbr_disk(tmp_path / "upload.part")
    with pytest.raises(InvalidInput, match=words):
        image_upload(storage_domain=domain, name="x", content=content, uploaded_path=uploaded, user=admin)
    assert not uploaded.exists()


def test_it_needs_an_spm_up_to_reach_the_storage_and_keeps_nothing_meanwhile(tmp_path, data_domain, admin):
    uploaded = qemu_img_create(tmp_path / "upload.part", "16M", "-f", "qcow2")

    with pytest.raises(Conflict, match="has no SPM host up"):
        image_upload(storage_domain=data_domain, name="base", content="disk", uploaded_path=uploaded, user=admin)

    assert not uploaded.exists() and not Image.objects.exists()


def test_an_iso_may_go_on_a_data_domain_too(tmp_path, data_domain, admin):
    uploaded = tiny_iso(tmp_path / "upload.part")

    with pytest.raises(Conflict, match="has no SPM host up"):  # every check passed: only the host is missing
        image_upload(storage_domain=data_domain, name="tools", content="iso", uploaded_path=uploaded, user=admin)

    assert not uploaded.exists()


def test_a_host_that_cannot_take_the_upload_is_a_503_and_leaves_no_volume(tmp_path, temp_dir, api):
    """libvirt's test driver has no volume upload: the volume made for it is
    deleted again and the answer names the host."""
    hypervisor.close_all()  # a fresh simulated host, without pools
    spm = HostFactory(name="sim", uri=simulated_host_uri("small.xml"), status=HostStatus.UP, spm_priority=5)
    domain = StorageDomainFactory(data_center=spm.cluster.data_center, path="/sim/data",
                                  domain_type=StorageDomainType.DATA)

    response = upload(api, mbr_disk(tmp_path / "disk.img"), domain=domain, name="disk")

    assert response.status_code == 503, response.content
    assert response.json()["detail"].startswith("Host sim: ")
    assert hypervisor.list_volumes(spm.uri, f"{storage_pool_name(domain)}-images") == []
    assert not Image.objects.exists() and files_under(temp_dir) == []
    hypervisor.close_all()


def test_api_streams_the_upload_to_the_portals_temporary_directory_then_removes_it(
        api, tmp_path, data_domain, temp_dir, uploads):
    big = mbr_disk(tmp_path / "big.img", size=4 * MIB)  # above Django's 2.5 MiB in-memory limit

    response = upload(api, big, domain=data_domain, name="big")

    assert response.status_code == 409, response.content  # no SPM: checked after the bytes
    [(uploaded, written_at)] = uploads
    assert uploaded.size == 4 * MIB and Path(written_at).parent == temp_dir
    assert files_under(temp_dir) == []


def test_api_refuses_a_file_larger_than_the_upload_limit(api, tmp_path, data_domain, temp_dir, settings):
    settings.IMAGE_UPLOAD_MAX_BYTES = 3 * MIB

    response = upload(api, mbr_disk(tmp_path / "big.img", size=4 * MIB), domain=data_domain, name="big")

    assert response.status_code == 400, response.content
    assert "larger than the 3.0\xa0MB an upload may have" in response.json()["detail"]
    assert files_under(temp_dir) == [] and not Image.objects.exists()


def test_api_refuses_a_backing_file_with_a_400_before_reaching_a_host(api, tmp_path, data_domain, temp_dir):
    response = upload(api, backed_qcow2(tmp_path), domain=data_domain, name="child")

    assert response.status_code == 400, response.content
    assert "has a backing file" in response.json()["detail"]
    assert files_under(temp_dir) == [] and not Image.objects.exists()


def test_api_refuses_a_text_file_and_leaves_nothing_behind(api, tmp_path, data_domain, temp_dir):
    response = upload(api, text_file(tmp_path / "README.txt"), domain=data_domain, name="readme")

    assert response.status_code == 400, response.content
    assert response.json()["detail"] == TEXT_REFUSED
    assert files_under(temp_dir) == [] and not Image.objects.exists()


def test_api_refuses_a_duplicate_name_on_the_same_domain(api, tmp_path, data_domain, temp_dir):
    Image.objects.create(name="twice", storage_domain=data_domain, format="raw", status=ImageStatus.OK)

    response = upload(api, mbr_disk(tmp_path / "disk.img"), domain=data_domain, name="twice")

    assert response.status_code == 400, response.content
    assert "already has an image named twice" in response.json()["detail"]
    assert Image.objects.count() == 1 and files_under(temp_dir) == []


def test_api_refuses_an_export_domain(api, tmp_path, export_domain, temp_dir):
    response = upload(api, mbr_disk(tmp_path / "disk.img"), domain=export_domain)

    assert response.status_code == 400, response.content
    assert "is an Export domain" in response.json()["detail"]
    assert files_under(temp_dir) == []


def test_api_refuses_a_missing_name_and_leaves_nothing_behind(api, tmp_path, data_domain, temp_dir):
    response = upload(api, mbr_disk(tmp_path / "disk.img"), domain=data_domain, name="")

    assert response.status_code == 400, response.content
    assert "name" in response.json()
    assert files_under(temp_dir) == [], "removed when the request closed its files"


def test_api_refuses_charlie_who_may_not_create(charlie, tmp_path, data_domain, temp_dir):
    client = APIClient()
    client.force_authenticate(charlie)

    response = upload(client, mbr_disk(tmp_path / "disk.img"), domain=data_domain)

    assert response.status_code == 403, response.content
    assert files_under(temp_dir) == [] and not Image.objects.exists()


def test_api_upload_from_the_browser_session_checks_csrf(admin, tmp_path, data_domain, temp_dir, uploads):
    """The UI's XHR upload: session cookie + X-CSRFToken. The CSRF check reads
    the body first, so the bounded disk handler must already be in place."""
    from tests.conftest import PASSWORD

    client = APIClient(enforce_csrf_checks=True)
    assert client.login(username=admin.username, password=PASSWORD)
    token = "a" * 32
    client.cookies["csrftoken"] = token
    with open(mbr_disk(tmp_path / "disk.img", size=3 * MIB), "rb") as handle:
        refused = client.post(URL, {"file": handle, "name": "web", "storage_domain": data_domain.pk,
                                    "content": "disk"}, format="multipart")
        handle.seek(0)
        response = client.post(URL, {"file": handle, "name": "web", "storage_domain": data_domain.pk,
                                     "content": "disk"}, format="multipart", HTTP_X_CSRFTOKEN=token)

    assert refused.status_code == 403, "no CSRF token"
    assert response.status_code == 409, response.content  # past CSRF, stopped only by the missing SPM
    assert [Path(path).parent for _, path in uploads] == [temp_dir, temp_dir]
    assert files_under(temp_dir) == []


def test_api_lists_images_with_their_detected_facts(api, data_domain):
    Image.objects.create(name="listed", storage_domain=data_domain, format="raw", virtual_size_bytes=MIB,
                         actual_size_bytes=4096, status=ImageStatus.OK, path="/nowhere/data/images/x.img")

    body = api.get(URL).json()

    assert body["count"] == 1
    [row] = body["results"]
    assert (row["name"], row["format"], row["virtual_size_bytes"], row["status"]) == ("listed", "raw", MIB, "ok")
    assert "file" not in row and row["url"].endswith(f"/api/v1/images/{row['id']}/")


def test_api_refuses_to_remove_an_image_without_an_spm_and_keeps_it(api, data_domain):
    image = Image.objects.create(name="kept", storage_domain=data_domain, format="qcow2", status=ImageStatus.OK,
                                 path="/nowhere/data/images/kept.qcow2")

    response = api.delete(f"{URL}{image.pk}/")

    assert response.status_code == 409, response.content
    assert Image.objects.filter(pk=image.pk).exists()


# --- through the machine's libvirtd (real; spm_domain in conftest.py) ---------------


@pytest.mark.real
def test_api_uploads_the_tiny_guest_image_through_libvirt(api, spm_domain, guest_image, temp_dir, libvirtd):
    expected = json.loads(subprocess.run(["qemu-img", "info", "--output=json", "-U", str(guest_image)],
                                         capture_output=True, text=True, check=True).stdout)

    response = upload(api, guest_image, domain=spm_domain, name="tiny-guest")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["name"], body["format"], body["status"]) == ("tiny-guest", "qcow2", "ok")
    assert body["virtual_size_bytes"] == expected["virtual-size"]
    image = Image.objects.get()
    [volume] = hypervisor.list_volumes(libvirtd, f"{storage_pool_name(spm_domain)}-images")
    assert volume.path == image.path and volume.format == "qcow2"
    assert Path(image.path).parent == Path(spm_domain.path) / "images"
    assert Path(image.path).read_bytes() == guest_image.read_bytes()
    assert files_under(temp_dir) == []
    assert Event.objects.filter(code="image.uploaded", target_name="tiny-guest").exists()


@pytest.mark.real
def test_api_uploads_an_iso_and_removes_it_through_libvirt(api, tmp_path, spm_domain, temp_dir, libvirtd):
    response = upload(api, tiny_iso(tmp_path / "tiny.iso"), domain=spm_domain, name="tools", content="iso")

    assert response.status_code == 201, response.content
    assert (response.json()["format"], response.json()["content"]) == ("iso", "iso")
    kept = Path(Image.objects.get().path)
    assert kept.suffix == ".iso" and kept.is_file()

    assert api.delete(f"{URL}{response.json()['id']}/").status_code == 204
    assert not kept.exists() and not Image.objects.exists()
    assert hypervisor.list_volumes(libvirtd, f"{storage_pool_name(spm_domain)}-images") == []
    assert Event.objects.filter(code="image.removed").exists()
