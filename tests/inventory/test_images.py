"""Uploading disk images and ISOs onto storage domains: the file is streamed to
the domain's disk (never held in memory), recognised with qemu-img, kept under
<domain>/images/, and anything refused leaves nothing behind."""

from __future__ import annotations

import json
import stat
import subprocess
from pathlib import Path

import pytest
from rest_framework.test import APIClient
from django.core.files.uploadedfile import TemporaryUploadedFile
from django.core.files.uploadhandler import TemporaryFileUploadHandler

from core.errors import InvalidInput
from core.models import Event
from inventory.choices import StorageDomainStatus, StorageDomainType
from inventory.choices import ImageStatus
from inventory.models import Image
from inventory.services.images import image_upload
from inventory.uploads import DomainUploadedFile
from tests.hypervisor.test_qemu_img import MIB, mbr_disk, qemu_img_create, text_file, tiny_iso
from tests.inventory.factories import StorageDomainFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/images/"
TEXT_REFUSED = "The file is not a disk image: it looks like text."


def files_under(directory: Path) -> list[str]:
    """Everything in the domain directory, hidden entries included."""
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*"))


@pytest.fixture
def data_domain(tmp_path):
    path = tmp_path / "data"
    path.mkdir()
    return StorageDomainFactory(path=str(path), domain_type=StorageDomainType.DATA)


@pytest.fixture
def iso_domain(tmp_path):
    path = tmp_path / "isos"
    path.mkdir()
    return StorageDomainFactory(path=str(path), domain_type=StorageDomainType.ISO,
                                status=StorageDomainStatus.ACTIVE)


@pytest.fixture
def export_domain(tmp_path):
    path = tmp_path / "export"
    path.mkdir()
    return StorageDomainFactory(path=str(path), domain_type=StorageDomainType.EXPORT)


@pytest.fixture
def uploads(monkeypatch):
    """(file object, path it was written to) for each file the upload handlers completed."""
    seen = []
    real_complete = TemporaryFileUploadHandler.file_complete  # DomainUploadHandler inherits it

    def record(handler, file_size):
        uploaded = real_complete(handler, file_size)
        seen.append((uploaded, uploaded.temporary_file_path()))
        return uploaded

    monkeypatch.setattr(TemporaryFileUploadHandler, "file_complete", record)
    return seen


def upload(api, path: Path, *, domain, name="image", content="disk", query=True):
    url = f"{URL}?storage_domain={domain.pk}" if query else URL
    with open(path, "rb") as handle:
        return api.post(url, {"file": handle, "name": name, "storage_domain": domain.pk, "content": content},
                        format="multipart")


# --- the service --------------------------------------------------------------


def test_it_keeps_a_qcow2_under_the_domain_images_directory(tmp_path, data_domain, admin):
    uploaded = qemu_img_create(tmp_path / "upload.part", "64M", "-f", "qcow2")

    image = image_upload(storage_domain=data_domain, name="base", content="disk",
                         uploaded_path=uploaded, user=admin)

    assert (image.format, image.virtual_size_bytes, image.status) == ("qcow2", 64 * MIB, ImageStatus.OK)
    assert image.owner == admin and image.actual_size_bytes > 0
    kept = Path(image.path)
    assert kept.parent == Path(data_domain.path) / "images" and kept.suffix == ".qcow2"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o644
    assert not uploaded.exists(), "moved, not copied"
    assert files_under(Path(data_domain.path)) == ["images", f"images/{kept.name}"]
    event = Event.objects.get(code="image.uploaded")
    assert event.target_name == "base" and "storage domain" in event.message and event.user == admin


def test_it_refuses_a_text_file_and_deletes_it(tmp_path, data_domain, admin):
    uploaded = text_file(tmp_path / "upload.part")

    with pytest.raises(InvalidInput, match=TEXT_REFUSED):
        image_upload(storage_domain=data_domain, name="notes", content="disk", uploaded_path=uploaded, user=admin)

    assert not uploaded.exists()
    assert files_under(Path(data_domain.path)) == []
    assert not Image.objects.exists() and not Event.objects.filter(code="image.uploaded").exists()


@pytest.mark.parametrize(
    ("domain_type", "status", "content", "words"),
    [
        (StorageDomainType.EXPORT, StorageDomainStatus.ACTIVE, "disk", "is an Export domain"),
        (StorageDomainType.EXPORT, StorageDomainStatus.ACTIVE, "iso", "is an Export domain"),
        (StorageDomainType.ISO, StorageDomainStatus.ACTIVE, "disk", "disk images go on a data domain"),
        (StorageDomainType.DATA, StorageDomainStatus.INACTIVE, "disk", "is inactive"),
        (StorageDomainType.DATA, StorageDomainStatus.LOCKED, "disk", "is locked"),
    ],
)
def test_it_refuses_a_domain_that_cannot_take_the_image(tmp_path, admin, domain_type, status, content, words):
    domain_dir = tmp_path / "domain"
    domain_dir.mkdir()
    domain = StorageDomainFactory(path=str(domain_dir), domain_type=domain_type, status=status)
    uploaded = mbr_disk(tmp_path / "upload.part") if content == "disk" else tiny_iso(tmp_path / "upload.part")

    with pytest.raises(InvalidInput, match=words):
        image_upload(storage_domain=domain, name="x", content=content, uploaded_path=uploaded, user=admin)

    assert not uploaded.exists() and files_under(domain_dir) == []


def test_it_refuses_a_domain_whose_directory_is_missing(tmp_path, admin):
    domain = StorageDomainFactory(path=str(tmp_path / "nowhere"))
    uploaded = mbr_disk(tmp_path / "upload.part")

    with pytest.raises(InvalidInput, match=r"does not exist"):
        image_upload(storage_domain=domain, name="x", content="disk", uploaded_path=uploaded, user=admin)

    assert not uploaded.exists() and not (tmp_path / "nowhere").exists()


def test_it_puts_an_iso_on_a_data_domain_too(tmp_path, data_domain, admin):
    image = image_upload(storage_domain=data_domain, name="installer", content="iso",
                         uploaded_path=tiny_iso(tmp_path / "upload.part"), user=admin)

    assert image.format == "iso" and image.path.endswith(".iso")


# --- the API -------------------------------------------------------------------


@pytest.mark.real
def test_api_uploads_the_tiny_guest_image_streamed_to_the_domain(api, data_domain, guest_image, uploads):
    expected = json.loads(subprocess.run(["qemu-img", "info", "--output=json", "-U", str(guest_image)],
                                         capture_output=True, text=True, check=True).stdout)
    assert guest_image.stat().st_size > 2.5 * MIB, "larger than FILE_UPLOAD_MAX_MEMORY_SIZE"

    response = upload(api, guest_image, domain=data_domain, name="tiny-guest")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["name"], body["format"], body["status"]) == ("tiny-guest", "qcow2", "ok")
    assert body["virtual_size_bytes"] == expected["virtual-size"]
    assert body["storage_domain"] == data_domain.pk and body["content"] == "disk"
    kept = Path(Image.objects.get().path)
    assert kept.parent == Path(data_domain.path) / "images"
    assert kept.stat().st_size == guest_image.stat().st_size
    # Streamed by the disk handler into the domain's own .uploads, then renamed.
    [(uploaded, written_at)] = uploads
    assert isinstance(uploaded, DomainUploadedFile)
    assert Path(written_at).parent == Path(data_domain.path) / ".uploads"
    assert files_under(Path(data_domain.path)) == ["images", f"images/{kept.name}"]


def test_api_streams_a_large_upload_to_the_domain_disk_not_to_memory(api, tmp_path, data_domain, uploads):
    big = mbr_disk(tmp_path / "big.img", size=4 * MIB)  # above Django's 2.5 MiB in-memory limit

    response = upload(api, big, domain=data_domain, name="big")

    assert response.status_code == 201, response.content
    [(uploaded, written_at)] = uploads
    assert isinstance(uploaded, DomainUploadedFile) and uploaded.size == 4 * MIB
    assert Path(written_at).parent == Path(data_domain.path) / ".uploads"
    assert response.json()["format"] == "raw"


def test_api_without_the_query_parameter_still_streams_to_disk(api, tmp_path, data_domain, uploads):
    small = mbr_disk(tmp_path / "small.img", size=64 * 1024)  # small enough for memory: not kept there

    response = upload(api, small, domain=data_domain, name="small", query=False)

    assert response.status_code == 201, response.content
    [(uploaded, written_at)] = uploads
    assert isinstance(uploaded, TemporaryUploadedFile)
    assert not Path(written_at).exists(), "copied onto the domain, then removed"
    kept = Path(Image.objects.get().path)
    assert files_under(Path(data_domain.path)) == ["images", f"images/{kept.name}"]


def test_api_uploads_an_iso(api, tmp_path, iso_domain):
    response = upload(api, tiny_iso(tmp_path / "tiny.iso"), domain=iso_domain, name="tools", content="iso")

    assert response.status_code == 201, response.content
    assert (response.json()["format"], response.json()["content"]) == ("iso", "iso")
    assert Path(Image.objects.get().path).suffix == ".iso"


def test_api_refuses_a_text_file_and_leaves_nothing_behind(api, tmp_path, data_domain):
    response = upload(api, text_file(tmp_path / "README.txt"), domain=data_domain, name="readme")

    assert response.status_code == 400, response.content
    assert response.json()["detail"] == TEXT_REFUSED
    assert files_under(Path(data_domain.path)) == [], "not even .uploads"
    assert not Image.objects.exists()


def test_api_refuses_a_duplicate_name_on_the_same_domain(api, tmp_path, data_domain):
    disk = mbr_disk(tmp_path / "disk.img")
    assert upload(api, disk, domain=data_domain, name="twice").status_code == 201

    response = upload(api, disk, domain=data_domain, name="twice")

    assert response.status_code == 400, response.content
    assert "already has an image named twice" in response.json()["detail"]
    assert Image.objects.count() == 1
    assert len(files_under(Path(data_domain.path))) == 2, "images/ and the first image only"


def test_api_refuses_an_export_domain(api, tmp_path, export_domain):
    response = upload(api, mbr_disk(tmp_path / "disk.img"), domain=export_domain)

    assert response.status_code == 400, response.content
    assert "is an Export domain" in response.json()["detail"]
    assert files_under(Path(export_domain.path)) == []


def test_api_refuses_a_missing_name_and_leaves_nothing_behind(api, tmp_path, data_domain):
    response = upload(api, mbr_disk(tmp_path / "disk.img"), domain=data_domain, name="")

    assert response.status_code == 400, response.content
    assert "name" in response.json()
    assert files_under(Path(data_domain.path)) == [], "removed when the request closed its files"


def test_api_refuses_a_query_parameter_naming_another_domain(api, tmp_path, data_domain, iso_domain):
    with open(mbr_disk(tmp_path / "disk.img"), "rb") as handle:
        response = api.post(f"{URL}?storage_domain={iso_domain.pk}",
                            {"file": handle, "name": "x", "storage_domain": data_domain.pk, "content": "disk"},
                            format="multipart")

    assert response.status_code == 400, response.content
    assert "different storage domains" in response.json()["detail"]
    assert files_under(Path(iso_domain.path)) == [] and files_under(Path(data_domain.path)) == []


def test_api_refuses_charlie_who_may_not_create(charlie, tmp_path, data_domain):
    client = APIClient()
    client.force_authenticate(charlie)

    response = upload(client, mbr_disk(tmp_path / "disk.img"), domain=data_domain)

    assert response.status_code == 403, response.content
    assert files_under(Path(data_domain.path)) == [] and not Image.objects.exists()


def test_api_lists_images_with_their_detected_facts(api, tmp_path, data_domain):
    upload(api, mbr_disk(tmp_path / "disk.img"), domain=data_domain, name="listed")

    body = api.get(URL).json()

    assert body["count"] == 1
    [row] = body["results"]
    assert (row["name"], row["format"], row["virtual_size_bytes"], row["status"]) == ("listed", "raw", MIB, "ok")
    assert "file" not in row and row["url"].endswith(f"/api/v1/images/{row['id']}/")


def test_api_upload_from_the_browser_session_with_csrf_streams_to_the_domain(admin, tmp_path, data_domain, uploads):
    """The UI's XHR upload: session cookie + X-CSRFToken. The CSRF check reads
    the body first, so the handlers must already be the domain's."""
    from tests.conftest import PASSWORD

    client = APIClient(enforce_csrf_checks=True)
    assert client.login(username=admin.username, password=PASSWORD)
    token = "a" * 32
    client.cookies["csrftoken"] = token
    with open(mbr_disk(tmp_path / "disk.img", size=3 * MIB), "rb") as handle:
        refused = client.post(f"{URL}?storage_domain={data_domain.pk}",
                              {"file": handle, "name": "web", "storage_domain": data_domain.pk, "content": "disk"},
                              format="multipart")
        handle.seek(0)
        response = client.post(f"{URL}?storage_domain={data_domain.pk}",
                               {"file": handle, "name": "web", "storage_domain": data_domain.pk, "content": "disk"},
                               format="multipart", HTTP_X_CSRFTOKEN=token)

    assert refused.status_code == 403, "no CSRF token"
    assert response.status_code == 201, response.content
    assert [type(uploaded) for uploaded, _ in uploads] == [DomainUploadedFile, DomainUploadedFile]
    kept = Path(Image.objects.get().path)
    assert files_under(Path(data_domain.path)) == ["images", f"images/{kept.name}"]


def test_api_removes_an_image_and_its_file(api, tmp_path, data_domain):
    qcow2 = tmp_path / "disk.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(qcow2), "16M"], check=True)
    image_id = upload(api, qcow2, domain=data_domain).json()["id"]
    kept = Path(Image.objects.get(pk=image_id).path)
    assert kept.exists()

    assert api.delete(f"/api/v1/images/{image_id}/").status_code == 204
    assert not kept.exists() and not Image.objects.filter(pk=image_id).exists()
    assert Event.objects.filter(code="image.removed").exists()


def test_the_image_page_asks_before_removing_and_removes_on_post(client, admin, tmp_path, data_domain, api):
    qcow2 = tmp_path / "disk.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(qcow2), "16M"], check=True)
    image_id = upload(api, qcow2, domain=data_domain).json()["id"]
    client.force_login(admin)
    url = f"/images/{image_id}/remove/"
    assert "This cannot be undone" in client.get(url).content.decode()
    assert Image.objects.filter(pk=image_id).exists(), "a GET changes nothing"
    client.post(url)
    assert not Image.objects.filter(pk=image_id).exists()
