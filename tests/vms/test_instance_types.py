"""Instance types: seeded presets that admins edit, in the UI and the API;
the same bad input refused by both."""

import pytest
from django.urls import reverse

from core.models import Event
from vms.models import InstanceType
from vms.services.catalog import instance_types_seed

pytestmark = pytest.mark.django_db


@pytest.fixture
def presets(db):
    instance_types_seed()
    return InstanceType.objects.all()


def test_the_page_lists_the_seeded_presets_with_their_total(client, admin, presets):
    client.force_login(admin)
    page = client.get(reverse("vms:instancetype-list")).content.decode()
    for name in ("Tiny", "Small", "Medium", "Large", "XLarge"):
        assert f">{name}<" in page
    assert "4 × 1 × 1 = 4 vCPUs" in page


def test_an_admin_edits_a_preset_and_it_leaves_an_event(client, admin, presets):
    client.force_login(admin)
    medium = presets.get(name="Medium")
    response = client.post(reverse("vms:instancetype-detail", args=[medium.pk]), {
        "name": "Medium", "description": "More memory", "memory_mb": 6144,
        "cpu_sockets": 2, "cpu_cores": 1, "cpu_threads": 1,
    })
    assert response.status_code == 302
    assert InstanceType.objects.get(pk=medium.pk).memory_mb == 6144
    assert Event.objects.filter(target_id=str(medium.pk)).exists()


def test_it_refuses_zero_memory_and_saves_nothing(client, admin, presets):
    client.force_login(admin)
    response = client.post(reverse("vms:instancetype-create"), {
        "name": "Broken", "memory_mb": 0, "cpu_sockets": 1, "cpu_cores": 1, "cpu_threads": 1,
    })
    assert 'data-field-error="memory_mb"' in response.content.decode()
    assert not InstanceType.objects.filter(name="Broken").exists()


def test_charlie_sees_the_presets_but_may_not_change_them(client, charlie, presets):
    client.force_login(charlie)
    page = client.get(reverse("vms:instancetype-list")).content.decode()
    assert ">Tiny<" in page and "New instance type" not in page and ">Edit<" not in page
    tiny = presets.get(name="Tiny")
    client.post(reverse("vms:instancetype-remove", args=[tiny.pk]))
    assert InstanceType.objects.filter(pk=tiny.pk).exists()


def test_the_api_edits_and_refuses_like_the_page(api, presets):
    tiny = presets.get(name="Tiny")
    assert api.patch(f"/api/v1/instancetypes/{tiny.pk}/", {"memory_mb": 768}, format="json").status_code == 200
    assert InstanceType.objects.get(pk=tiny.pk).memory_mb == 768
    response = api.post("/api/v1/instancetypes/", {"name": "Tiny", "memory_mb": 512}, format="json")
    assert response.status_code == 400 and "name" in response.json()
