"""Logical networks through the API (API.md networks/)."""

import pytest

from core.models import Job
from inventory.choices import HostStatus
from inventory.models import Network
from tests.inventory.factories import DataCenterFactory, HostFactory, nics_on, simulated_host_uri

pytestmark = pytest.mark.django_db


def post(api, data_center, **fields):
    return api.post("/api/v1/networks/", {"name": "VM Network", "data_center": data_center.pk, **fields}, format="json")


def test_it_creates_a_network_with_a_bridge_derived_from_its_name(api):
    response = post(api, DataCenterFactory(), mtu=9000)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["bridge"] == "VM-Network" and body["status"] == "unattached"
    assert (body["vlan"], body["mtu"], body["vm_network"]) == (None, 9000, True)


def test_a_vlan_network_goes_on_the_hosts_open_vswitch_bridge(api):
    dc = DataCenterFactory()
    response = post(api, dc, vlan=100)
    assert response.status_code == 201, response.content
    assert (response.json()["bridge"], response.json()["vlan"]) == ("ovsbr0", 100)
    # Several VLANs share that bridge, one network each.
    assert post(api, dc, name="backend", vlan=200).json()["bridge"] == "ovsbr0"
    response = post(api, dc, name="again", vlan=100)
    assert response.status_code == 400
    assert "already carries VLAN 100 on the bridge ovsbr0" in response.json()["bridge"][0]
    # A Linux bridge of an untagged network is never an Open vSwitch trunk too.
    response = post(api, dc, name="plain", bridge="ovsbr0")
    assert response.status_code == 400 and "not both" in response.json()["bridge"][0]
    assert Network.objects.count() == 2


@pytest.mark.parametrize("field, value, words", [
    ("vlan", 5000, "4094"), ("vlan", 0, "1"), ("mtu", 10000, "9000"), ("bridge", "has space", "bridge name"),
])
def test_it_refuses_bad_values_with_a_field_message_and_saves_nothing(api, field, value, words):
    response = post(api, DataCenterFactory(), **{field: value})
    assert response.status_code == 400
    assert words in " ".join(response.json()[field])
    assert not Network.objects.exists()


def test_it_refuses_a_duplicate_name_in_the_same_data_center(api):
    dc = DataCenterFactory()
    post(api, dc)
    response = post(api, dc)
    assert response.status_code == 400
    assert Network.objects.count() == 1


def test_it_attaches_a_network_to_the_up_hosts_as_a_job(api):
    host = HostFactory(uri=simulated_host_uri("small.xml"), status=HostStatus.UP)
    network_id = post(api, host.cluster.data_center).json()["id"]
    response = api.post(f"/api/v1/networks/{network_id}/attach/")
    assert response.status_code == 202 and response.json()["job"]["kind"] == "network.attach"


def test_it_refuses_to_attach_when_no_host_is_up(api):
    network_id = post(api, DataCenterFactory()).json()["id"]
    response = api.post(f"/api/v1/networks/{network_id}/attach/")
    assert response.status_code == 409
    assert Network.objects.get(pk=network_id).status == "unattached"


def test_it_detaches_a_network_as_a_job_that_knows_the_status_to_go_back_to(api):
    host = HostFactory(uri=simulated_host_uri("small.xml"), status=HostStatus.UP)
    network_id = post(api, host.cluster.data_center).json()["id"]
    Network.objects.filter(pk=network_id).update(status="inactive")

    response = api.post(f"/api/v1/networks/{network_id}/detach/")

    assert response.status_code == 202, response.content
    job = response.json()["job"]
    assert job["kind"] == "network.detach" and [s["name"] for s in job["steps"]] == [f"Remove network from {host.name}"]
    assert Job.objects.get(pk=job["id"]).args == ["inactive"]
    assert Network.objects.get(pk=network_id).status == "locked"


def test_it_refuses_to_detach_an_unattached_network(api):
    network_id = post(api, DataCenterFactory()).json()["id"]
    response = api.post(f"/api/v1/networks/{network_id}/detach/")
    assert response.status_code == 409
    assert response.json()["code"] == "conflict" and "only an active or inactive network" in response.json()["detail"]


def test_it_refuses_to_detach_or_remove_a_network_nics_use_saying_how_many(api):
    network_id = post(api, DataCenterFactory()).json()["id"]
    network = Network.objects.get(pk=network_id)
    nics_on(network, "web1", "web2", "web3")
    Network.objects.filter(pk=network_id).update(status="active")

    response = api.post(f"/api/v1/networks/{network_id}/detach/")
    assert response.status_code == 409
    assert response.json()["detail"].startswith("Network VM Network cannot be detached: 3 VM NICs (web1 nic 0")
    Network.objects.filter(pk=network_id).update(status="unattached")
    response = api.delete(f"/api/v1/networks/{network_id}/")
    assert response.status_code == 409 and "cannot be removed: 3 VM NICs" in response.json()["detail"]
    assert Network.objects.filter(pk=network_id).exists()


def test_it_removes_only_an_unattached_network(api):
    network_id = post(api, DataCenterFactory()).json()["id"]
    Network.objects.filter(pk=network_id).update(status="active")
    response = api.delete(f"/api/v1/networks/{network_id}/")
    assert response.status_code == 409 and "is active: detach it first" in response.json()["detail"]
    Network.objects.filter(pk=network_id).update(status="unattached")
    assert api.delete(f"/api/v1/networks/{network_id}/").status_code == 204
    assert not Network.objects.exists()


@pytest.mark.parametrize("change, words", [
    ({"bridge": "br-new"}, "its bridge cannot change"),
    ({"vlan": 12}, "its VLAN cannot change"),
    ({"mtu": 9000}, "its MTU cannot change"),
])
def test_it_refuses_to_change_an_active_networks_bridge_vlan_or_mtu_with_a_400(api, change, words):
    network_id = post(api, DataCenterFactory()).json()["id"]
    Network.objects.filter(pk=network_id).update(status="active")

    response = api.patch(f"/api/v1/networks/{network_id}/", change, format="json")

    assert response.status_code == 400, response.content
    assert words in response.json()["detail"] and "Detach it first" in response.json()["detail"]
    assert Network.objects.filter(pk=network_id, bridge="VM-Network", vlan=None, mtu=1500).exists()
    response = api.patch(f"/api/v1/networks/{network_id}/", {"description": "still editable"}, format="json")
    assert response.status_code == 200 and response.json()["description"] == "still editable"


def test_an_unattached_network_takes_a_vlan_and_moves_to_the_open_vswitch_bridge(api):
    network_id = post(api, DataCenterFactory()).json()["id"]
    response = api.patch(f"/api/v1/networks/{network_id}/", {"vlan": 12, "bridge": ""}, format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["vlan"], response.json()["bridge"]) == (12, "ovsbr0")
