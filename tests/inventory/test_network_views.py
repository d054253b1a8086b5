"""The network pages: list, detail with the Attach button, create/edit/remove."""

import pytest
from django.urls import reverse

from core.models import Event, Job
from inventory.choices import HostStatus, NetworkStatus
from inventory.models import Network
from inventory.services import network_create
from tests.inventory.factories import ClusterFactory, DataCenterFactory, HostFactory, nics_on

pytestmark = pytest.mark.django_db


@pytest.fixture
def network(admin):
    return network_create(data_center=DataCenterFactory(name="east"), name="VM Network", vlan=12,
                          bridge="VM-Network", user=admin)


def test_it_lists_networks_with_their_facts(logged_in, network):
    page = logged_in.get(reverse("inventory:network-list")).content.decode()
    assert "VM Network" in page and "VM-Network" in page and "east" in page
    assert 'data-status="unattached"' in page and ">12<" in page and ">1500<" in page


def test_it_searches_and_sorts_networks(logged_in, network, admin):
    network_create(data_center=network.data_center, name="storage", vlan=5, user=admin)
    page = logged_in.get(reverse("inventory:network-list"), {"q": "stor"}).content.decode()
    assert "storage" in page and "VM Network" not in page
    page = logged_in.get(reverse("inventory:network-list"), {"ordering": "vlan"}).content.decode()
    assert page.index(">storage<") < page.index(">VM Network<")
    page = logged_in.get(reverse("inventory:network-list"), {"ordering": "-vlan"}).content.decode()
    assert page.index(">VM Network<") < page.index(">storage<")


def test_it_shows_the_network_page_with_attach_and_events(logged_in, network):
    page = logged_in.get(reverse("inventory:network-detail", args=[network.pk])).content.decode()
    assert reverse("inventory:network-attach", args=[network.pk]) in page
    assert reverse("inventory:object-edit", args=["networks", network.pk]) in page
    assert "network.created" in page or "VM Network" in page
    Network.objects.filter(pk=network.pk).update(status=NetworkStatus.ACTIVE)
    page = logged_in.get(reverse("inventory:network-detail", args=[network.pk])).content.decode()
    assert reverse("inventory:network-attach", args=[network.pk]) not in page


def test_it_enables_networks_in_the_navigation(logged_in):
    page = logged_in.get(reverse("dashboard")).content.decode()
    assert f'href="{reverse("inventory:network-list")}"' in page
    assert f'href="{reverse("inventory:image-list")}"' in page


def test_it_creates_a_network_from_the_form_deriving_the_bridge(logged_in):
    dc = DataCenterFactory()
    page = logged_in.get(reverse("inventory:object-create", args=["networks"])).content.decode()
    assert "VLAN 1-4094, empty for none" in page and "empty: derived from the name" in page
    response = logged_in.post(reverse("inventory:object-create", args=["networks"]), {
        "name": "Back end", "data_center": dc.pk, "vm_network": "on", "vlan": "", "mtu": 9000, "bridge": ""})
    network = Network.objects.get(name="Back end")
    assert response.status_code == 302 and response.url == reverse("inventory:network-detail", args=[network.pk])
    assert (network.bridge, network.vlan, network.mtu, network.status) == ("Back-end", None, 9000, "unattached")
    assert Event.objects.filter(code="network.created", target_id=str(network.pk)).exists()


def test_it_refuses_vlan_5000_with_a_field_error_and_saves_nothing(logged_in):
    dc = DataCenterFactory()
    response = logged_in.post(reverse("inventory:object-create", args=["networks"]), {
        "name": "big", "data_center": dc.pk, "vlan": 5000, "mtu": 1500})
    page = response.content.decode()
    assert response.status_code == 200 and 'data-field-error="vlan"' in page
    assert not Network.objects.exists()


def test_it_shows_a_service_refusal_as_a_form_error(logged_in, network):
    response = logged_in.post(reverse("inventory:object-create", args=["networks"]), {
        "name": "other", "data_center": network.data_center.pk, "mtu": 1500, "bridge": "VM-Network"})
    assert "already network VM Network" in response.content.decode()
    assert Network.objects.count() == 1


def test_it_edits_and_removes_a_network(logged_in, network):
    response = logged_in.post(reverse("inventory:object-edit", args=["networks", network.pk]), {
        "name": "VM Network", "description": "guests", "data_center": network.data_center.pk,
        "vm_network": "on", "vlan": 40, "mtu": 1500, "bridge": ""})
    assert response.status_code == 302
    network.refresh_from_db()
    # An empty bridge is derived again: for a VLAN network, the hosts' Open vSwitch bridge.
    assert (network.description, network.vlan, network.bridge) == ("guests", 40, "ovsbr0")
    response = logged_in.post(reverse("inventory:object-remove", args=["networks", network.pk]))
    assert response.status_code == 302 and response.url == reverse("inventory:network-list")
    assert not Network.objects.exists()


def test_it_refuses_to_attach_without_an_up_host_saying_why(logged_in, network):
    response = logged_in.post(reverse("inventory:network-attach", args=[network.pk]), follow=True)
    page = response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("inventory:network-detail", args=[network.pk])
    assert "has no host up to create the network on" in page
    network.refresh_from_db()
    assert network.status == NetworkStatus.UNATTACHED and not Job.objects.exists()


def test_the_page_offers_detach_for_an_attached_network_and_says_what_uses_it(logged_in, network):
    detach_url = reverse("inventory:network-detach", args=[network.pk])
    page = logged_in.get(reverse("inventory:network-detail", args=[network.pk])).content.decode()
    assert detach_url not in page  # unattached: nothing to detach
    for status in (NetworkStatus.ACTIVE, NetworkStatus.INACTIVE):
        Network.objects.filter(pk=network.pk).update(status=status)
        page = logged_in.get(reverse("inventory:network-detail", args=[network.pk])).content.decode()
        assert f'action="{detach_url}"' in page
    assert "Used by" in page and "nothing" in page
    nics_on(network, "web1")
    page = logged_in.get(reverse("inventory:network-detail", args=[network.pk])).content.decode()
    assert "1 VM NIC" in page and "web1 nic 0" in page and "it can be neither detached nor removed" in page


def test_the_page_says_how_a_vlan_is_realised(logged_in, network):
    page = logged_in.get(reverse("inventory:network-detail", args=[network.pk])).content.decode()
    assert "tagged on the guests' ports by Open vSwitch" in page
    assert "every host needs the Open vSwitch bridge VM-Network with MTU 1500" in page
    assert "stored, not tagged" not in page


def test_the_detach_button_starts_the_job_and_shows_it(logged_in, network):
    host = HostFactory(cluster=ClusterFactory(data_center=network.data_center), name="h1", status=HostStatus.UP)
    Network.objects.filter(pk=network.pk).update(status=NetworkStatus.ACTIVE)

    response = logged_in.post(reverse("inventory:network-detach", args=[network.pk]))

    job = Job.objects.get(kind="network.detach")
    assert response.status_code == 302 and response.url == reverse("core:job-detail", args=[job.pk])
    assert [step["name"] for step in job.steps] == [f"Remove network from {host.name}"]
    assert Network.objects.get(pk=network.pk).status == NetworkStatus.LOCKED
    assert logged_in.get(reverse("inventory:network-detach", args=[network.pk])).status_code == 405  # no GET


def test_a_refused_detach_says_why_on_the_page(logged_in, network):
    Network.objects.filter(pk=network.pk).update(status=NetworkStatus.ACTIVE)
    nics_on(network, "db1", "db2")

    response = logged_in.post(reverse("inventory:network-detach", args=[network.pk]), follow=True)

    page = response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("inventory:network-detail", args=[network.pk])
    assert "cannot be detached: 2 VM NICs (db1 nic 0, db2 nic 0) use it" in page
    assert Network.objects.get(pk=network.pk).status == NetworkStatus.ACTIVE and not Job.objects.exists()


def test_editing_an_active_networks_vlan_is_refused_saying_to_detach_first(logged_in, network):
    Network.objects.filter(pk=network.pk).update(status=NetworkStatus.ACTIVE)

    response = logged_in.post(reverse("inventory:object-edit", args=["networks", network.pk]), {
        "name": "VM Network", "data_center": network.data_center.pk, "vm_network": "on", "vlan": 13,
        "mtu": 1500, "bridge": "VM-Network"})

    page = response.content.decode()
    assert response.status_code == 200
    assert "Network VM Network is active: its VLAN cannot change while hosts have it. Detach it first" in page
    assert Network.objects.get(pk=network.pk).vlan == 12


def test_removing_an_active_network_is_refused_saying_to_detach_first(logged_in, network):
    Network.objects.filter(pk=network.pk).update(status=NetworkStatus.ACTIVE)

    response = logged_in.post(reverse("inventory:object-remove", args=["networks", network.pk]), follow=True)

    assert "is active: detach it first" in response.content.decode()
    assert Network.objects.filter(pk=network.pk).exists()
