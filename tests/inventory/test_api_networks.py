"""Logical networks through the API (API.md networks/)."""

import pytest

from inventory.choices import HostStatus
from inventory.models import Network
from tests.inventory.factories import DataCenterFactory, HostFactory, simulated_host_uri

pytestmark = pytest.mark.django_db


def post(api, data_center, **fields):
    return api.post("/api/v1/networks/", {"name": "VM Network", "data_center": data_center.pk, **fields}, format="json")


def test_it_creates_a_network_with_a_bridge_derived_from_its_name(api):
    response = post(api, DataCenterFactory(), vlan=100, mtu=9000)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["bridge"] == "VM-Network" and body["status"] == "unattached"
    assert (body["vlan"], body["mtu"], body["vm_network"]) == (100, 9000, True)


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
