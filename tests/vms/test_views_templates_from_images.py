"""The pages that make a template of an uploaded image: the images' "Make
template" link, the form (bad input shown on it, nothing written), and the
template's page naming the image it came from."""

import pytest

from core.models import Job
from tests.support.jobs import run_job as run
from tests.vms.test_lifecycle import world  # noqa: F401 (the world fixture)
from tests.vms.test_templates_from_images import images_pool_removed, place_image  # noqa: F401 (fixture)
from tests.vms.test_views import grant, page_of
from vms.models import Template

pytestmark = pytest.mark.django_db
URL = "/templates/from-image/"


def answers(world, image, **extra):
    return {"image": image.pk, "name": "cloud-tpl", "os_type": world["os"].pk,
            "storage_domain": world["domain"].pk, **extra}


def test_the_image_list_links_to_the_form_which_makes_the_template(logged_in, world):
    image = place_image(world)
    assert f'{URL}?image={image.pk}' in page_of(logged_in.get("/images/"))
    assert URL in page_of(logged_in.get("/templates/"))
    form = page_of(logged_in.get(URL, {"image": image.pk}))
    assert f'<option value="{image.pk}" selected>' in form and "Operating system" in form
    response = logged_in.post(URL, answers(world, image, memory_mb="2048"))
    template = Template.objects.get()
    assert response.status_code == 302 and response.url == f"/templates/{template.pk}/"
    assert template.memory_mb == 2048
    run(Job.objects.get(kind="template.create"))
    detail = page_of(logged_in.get(f"/templates/{template.pk}/"))
    assert "image cloud (qcow2, on" in detail


@pytest.mark.parametrize(("extra", "says"), [
    ({"memory_mb": "0"}, "greater than or equal to 1"),
    ({"name": "a/b"}, "&#x27;/&#x27;"),
    ({"os_type": ""}, "This field is required"),
    ({"cpu_cores": "lots"}, "Enter a whole number"),
])
def test_bad_input_is_shown_on_the_form_and_nothing_is_made(logged_in, world, extra, says):
    page = page_of(logged_in.post(URL, answers(world, place_image(world), **extra)))
    assert says in page and "data-field-error" in page
    assert not Template.objects.exists()


def test_an_image_the_hosts_cannot_copy_is_refused_saying_why(logged_in, world):
    page = page_of(logged_in.post(URL, answers(world, place_image(world, "win", format="vhdx"))))
    assert "which libvirt on the hosts cannot read" in page
    assert not Template.objects.exists()


def test_a_user_without_create_is_told_and_nothing_is_made(client, world, charlie):
    image = place_image(world)
    grant(charlie, ["view"], image)
    client.force_login(charlie)
    page = page_of(client.post(URL, answers(world, image)))
    assert "You may not make a template of image cloud" in page
    assert not Template.objects.exists()
