"""The image pages: the list, the upload page (upload.js posts to the API; a
plain POST goes through the same service) and the images of a storage domain."""

from pathlib import Path

import pytest
from django.urls import reverse

from inventory.choices import ImageContent, ImageStatus, StorageDomainStatus, StorageDomainType
from inventory.models import Image
from tests.hypervisor.test_qemu_img import MIB, qemu_img_create, text_file
from tests.inventory.factories import StorageDomainFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def data_domain(tmp_path):
    path = tmp_path / "data"
    path.mkdir()
    return StorageDomainFactory(name="local-data", path=str(path), domain_type=StorageDomainType.DATA)


@pytest.fixture
def iso_domain(tmp_path):
    path = tmp_path / "isos"
    path.mkdir()
    return StorageDomainFactory(name="isos", path=str(path), domain_type=StorageDomainType.ISO,
                                status=StorageDomainStatus.ACTIVE)


def make_image(domain, name, **fields):
    return Image.objects.create(name=name, storage_domain=domain, format=fields.pop("format", "qcow2"),
                                virtual_size_bytes=64 * MIB, actual_size_bytes=196_608, status=ImageStatus.OK,
                                **fields)


def test_it_lists_images(logged_in, data_domain, iso_domain, admin):
    make_image(data_domain, "base-disk", owner=admin)
    make_image(iso_domain, "fedora.iso", content=ImageContent.ISO, format="iso")
    page = logged_in.get(reverse("inventory:image-list")).content.decode()
    assert "base-disk" in page and "fedora.iso" in page and "local-data" in page
    assert "64.0\xa0MB" in page and 'title="67108864 bytes"' in page and 'data-status="ok"' in page
    assert ">admin<" in page
    page = logged_in.get(reverse("inventory:image-list"), {"q": "fedora"}).content.decode()
    assert "fedora.iso" in page and "base-disk" not in page
    page = logged_in.get(reverse("inventory:image-list"), {"content": "disk"}).content.decode()
    assert "base-disk" in page and "fedora.iso" not in page


def test_it_renders_the_upload_page_with_the_data_and_iso_domains(logged_in, data_domain, iso_domain, tmp_path):
    StorageDomainFactory(name="exports", path=str(tmp_path), domain_type=StorageDomainType.EXPORT)
    page = logged_in.get(reverse("inventory:image-upload")).content.decode()
    assert f'value="{data_domain.pk}"' in page and f'value="{iso_domain.pk}"' in page and "exports" not in page
    assert 'enctype="multipart/form-data"' in page and 'data-api-url="/api/v1/images/"' in page
    assert "js/upload." in page and 'name="file"' in page and "pf-v6-c-progress" in page
    page = logged_in.get(reverse("inventory:image-upload"), {"storage_domain": iso_domain.pk}).content.decode()
    assert f'<option value="{iso_domain.pk}" selected>' in page


def test_the_storage_domain_page_lists_its_images_and_links_to_upload(logged_in, data_domain, iso_domain):
    make_image(data_domain, "base-disk")
    make_image(iso_domain, "fedora.iso", content=ImageContent.ISO, format="iso")
    page = logged_in.get(reverse("inventory:storagedomain-detail", args=[iso_domain.pk])).content.decode()
    assert "ISO images" in page and "fedora.iso" in page and "base-disk" not in page
    assert f'{reverse("inventory:image-upload")}?storage_domain={iso_domain.pk}' in page


@pytest.mark.real
def test_a_plain_post_uploads_through_the_service(logged_in, spm_domain, tmp_path):
    disk = qemu_img_create(tmp_path / "x.qcow2", "64M", "-f", "qcow2")
    with open(disk, "rb") as handle:
        response = logged_in.post(f"{reverse('inventory:image-upload')}?storage_domain={spm_domain.pk}", {
            "storage_domain": spm_domain.pk, "name": "base", "content": "disk", "file": handle})
    assert response.status_code == 302
    assert response.url == reverse("inventory:storagedomain-detail", args=[spm_domain.pk])
    image = Image.objects.get(name="base")
    assert (image.format, image.virtual_size_bytes) == ("qcow2", 64 * MIB)
    assert Path(image.path).parent == Path(spm_domain.path) / "images"


def test_a_plain_post_without_an_spm_says_why(logged_in, data_domain, tmp_path):
    disk = qemu_img_create(tmp_path / "x.qcow2", "64M", "-f", "qcow2")
    with open(disk, "rb") as handle:
        response = logged_in.post(reverse("inventory:image-upload"), {
            "storage_domain": data_domain.pk, "name": "base", "content": "disk", "file": handle})
    assert response.status_code == 200
    assert "has no SPM host up" in response.content.decode() and not Image.objects.exists()


def test_a_plain_post_past_the_size_limit_says_why(logged_in, data_domain, tmp_path, settings):
    settings.IMAGE_UPLOAD_MAX_BYTES = MIB
    disk = qemu_img_create(tmp_path / "x.qcow2", "64M", "-f", "qcow2", "-o", "preallocation=full")
    url = f"{reverse('inventory:image-upload')}?storage_domain={data_domain.pk}"
    with open(disk, "rb") as handle:
        response = logged_in.post(url, {"storage_domain": data_domain.pk, "name": "big", "content": "disk",
                                        "file": handle}, follow=True)
    assert response.redirect_chain == [(url, 302)]
    assert "larger than the 1.0\xa0MB an upload may have" in response.content.decode()
    assert not Image.objects.exists()


def test_a_plain_post_of_a_text_file_says_why_and_leaves_nothing(logged_in, data_domain, tmp_path):
    notes = text_file(tmp_path / "notes.txt")
    with open(notes, "rb") as handle:
        response = logged_in.post(f"{reverse('inventory:image-upload')}?storage_domain={data_domain.pk}", {
            "storage_domain": data_domain.pk, "name": "notes", "content": "disk", "file": handle})
    page = response.content.decode()
    assert response.status_code == 200
    assert "The file is not a disk image: it looks like text." in page and "pf-m-danger" in page
    assert 'value="notes"' in page  # what was typed is kept
    assert not Image.objects.exists()
    assert list(Path(data_domain.path).rglob("*")) == []


def test_a_plain_post_checks_the_csrf_token(client, admin, data_domain, tmp_path):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(admin)
    with open(text_file(tmp_path / "n.txt"), "rb") as handle:
        response = strict.post(reverse("inventory:image-upload"), {
            "storage_domain": data_domain.pk, "name": "n", "content": "disk", "file": handle})
    assert response.status_code == 403 and not Image.objects.exists()


def test_the_image_page_asks_before_removing_and_says_why_it_cannot(logged_in, data_domain):
    image = make_image(data_domain, "kept", path=f"{data_domain.path}/images/kept.qcow2")
    url = reverse("inventory:image-remove", args=[image.pk])
    assert "This cannot be undone" in logged_in.get(url).content.decode()
    assert Image.objects.filter(pk=image.pk).exists(), "a GET changes nothing"

    page = logged_in.post(url, follow=True).content.decode()

    assert "has no SPM host up" in page and Image.objects.filter(pk=image.pk).exists()


@pytest.mark.real
def test_the_image_page_removes_the_volume_through_the_spm(logged_in, spm_domain, tmp_path):
    with open(qemu_img_create(tmp_path / "x.qcow2", "16M", "-f", "qcow2"), "rb") as handle:
        logged_in.post(reverse("inventory:image-upload"), {
            "storage_domain": spm_domain.pk, "name": "gone", "content": "disk", "file": handle})
    image = Image.objects.get(name="gone")
    assert Path(image.path).is_file()

    page = logged_in.post(reverse("inventory:image-remove", args=[image.pk]), follow=True).content.decode()

    assert "Image gone was removed." in page
    assert not Path(image.path).exists() and not Image.objects.exists()
