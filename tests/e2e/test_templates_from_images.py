"""Making a template of an uploaded image in Debian's Chromium: from the
images list's "Make template" to the form (bad input shown, nothing lost) and
the template's page naming the image. No hypervisor: the job is only queued.

Screenshots go to test-artifacts/browser/template-from-image-*.png."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from inventory.choices import ImageContent, ImageStatus, StorageDomainStatus
from inventory.models import Image
from tests.e2e.conftest import screenshot
from tests.e2e.test_browser import log_in
from tests.inventory.factories import ClusterFactory, StorageDomainFactory
from vms.models import Template
from vms.services.catalog import operating_systems_import

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
GIB = 1024**3


@pytest.fixture
def image():
    operating_systems_import(roots=[])
    cluster = ClusterFactory(name="prod")
    domain = StorageDomainFactory(name="data1", data_center=cluster.data_center, status=StorageDomainStatus.ACTIVE,
                                  capacity_bytes=500 * GIB, allocated_bytes=120 * GIB, available_bytes=380 * GIB)
    return Image.objects.create(name="appliance.vmdk", storage_domain=domain, content=ImageContent.DISK,
                                format="vmdk", status=ImageStatus.OK, path=f"{domain.path}/images/a.vmdk",
                                virtual_size_bytes=8 * GIB, actual_size_bytes=2 * GIB)


def test_make_template_from_an_image_through_the_pages(page, admin, image):
    log_in(page)
    page.goto("/images/")
    page.get_by_role("link", name="Make template").click()
    expect(page.get_by_role("heading", name="Make template from image")).to_be_visible()
    expect(page.locator("select[name=image]")).to_have_value(str(image.pk))
    page.fill("input[name=name]", "bad/name")
    page.select_option("select[name=os_type]", "linux-generic")
    page.fill("input[name=memory_mb]", "2048")
    page.get_by_role("button", name="Make template").click()
    expect(page.locator("[data-field-error]")).to_contain_text("'/'")
    expect(page.locator("input[name=memory_mb]")).to_have_value("2048")  # nothing lost
    screenshot(page, "template-from-image-form-error")
    assert not Template.objects.exists()

    page.fill("input[name=name]", "appliance")
    page.get_by_role("button", name="Make template").click()
    expect(page.get_by_role("heading", name="appliance")).to_be_visible()
    expect(page.get_by_text("image appliance.vmdk (vmdk, on")).to_be_visible()
    screenshot(page, "template-from-image-detail")
    template = Template.objects.get()
    assert (template.created_from_image, template.memory_mb) == (image, 2048)
