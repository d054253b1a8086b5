"""An inventory object's buttons: shown in exactly the statuses its service
accepts, and only to users who may press them."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from core.models import Permission, Role
from inventory.actions import object_actions
from inventory.choices import AttachmentStatus, HostStatus
from inventory.models import Network
from inventory.services import network as network_service
from inventory.services import storage as storage_service
from inventory.services.hosts import ACTIVATABLE_STATES, STATES_THAT_REFUSE_REFRESH
from tests.inventory.factories import DataCenterFactory, HostFactory, StorageDomainFactory

pytestmark = pytest.mark.django_db


def labels(user, kind, obj) -> list[str]:
    return [action.label for action in object_actions(user, kind, obj)]


@pytest.mark.parametrize("status", HostStatus.values())
def test_a_host_offers_what_its_services_accept(admin, status):
    host = HostFactory(status=status, pm_address="")
    shown = labels(admin, "hosts", host)
    assert ("Activate" in shown) == (status in ACTIVATABLE_STATES)
    assert ("Refresh" in shown) == (status not in STATES_THAT_REFUSE_REFRESH)
    assert shown[0] == "Edit" and shown[-1] == "Remove" and "Test power management" not in shown


@pytest.mark.parametrize("status", AttachmentStatus.values())
def test_storage_domains_and_networks_offer_attach_and_detach_as_their_services_accept(admin, status):
    domain = StorageDomainFactory(status=status)
    network = Network.objects.create(name="vmnet", data_center=DataCenterFactory(), bridge="br0", status=status)
    for kind, obj, service in (("storage", domain, storage_service), ("networks", network, network_service)):
        shown = labels(admin, kind, obj)
        assert ("Attach" in shown) == (obj.status in service.ATTACHABLE_STATES)
        assert ("Detach" in shown) == (obj.status in service.DETACHABLE_STATES)


def test_a_user_who_may_only_look_gets_no_buttons(client, bob):
    host = HostFactory(status=HostStatus.MAINTENANCE, pm_address="10.0.0.9")
    viewer = Role.objects.create(name="Viewer", actions=["view"])
    Permission.objects.create(role=viewer, user=bob, object_type=ContentType.objects.get_for_model(host),
                              object_id=str(host.pk))
    client.force_login(bob)
    page = client.get(reverse("inventory:host-detail", args=[host.pk])).content.decode()
    assert host.name in page
    assert reverse("inventory:host-activate", args=[host.pk]) not in page
    assert reverse("inventory:object-edit", args=["hosts", host.pk]) not in page
    assert labels(bob, "hosts", host) == []
