"""Power management through the hosts API: the password is write-only and
stored encrypted; the test action asks the simulated BMC."""

import pytest

from core.models import Event
from core.secrets import decrypt_secret
from inventory.models import Host
from tests.inventory.factories import ClusterFactory, HostFactory, simulated_host_uri

pytestmark = pytest.mark.django_db


def power(bmc, **extra) -> dict:
    return {"enabled": True, "agent": "ipmilan", "address": bmc.address, "port": bmc.port,
            "username": bmc.username, "password": bmc.password, **extra}


def test_it_stores_the_password_encrypted_and_never_returns_it(api, bmc):
    host = HostFactory()
    response = api.patch(f"/api/v1/hosts/{host.pk}/", {"power_management": power(bmc)}, format="json")
    assert response.status_code == 200, response.content
    shown = response.json()["power_management"]
    assert "password" not in shown and shown["password_set"] is True
    assert shown["address"] == bmc.address and shown["enabled"] is True
    stored = Host.objects.get(pk=host.pk).pm_password_encrypted
    assert bmc.password not in stored and decrypt_secret(stored) == bmc.password
    assert bmc.password not in Event.objects.get(code="host.updated").message


def test_it_keeps_the_password_when_an_edit_leaves_it_out(api, bmc):
    host = HostFactory()
    api.patch(f"/api/v1/hosts/{host.pk}/", {"power_management": power(bmc)}, format="json")
    stored = Host.objects.get(pk=host.pk).pm_password_encrypted
    response = api.patch(f"/api/v1/hosts/{host.pk}/", {"power_management": {"options": "lanplus"}}, format="json")
    assert response.status_code == 200, response.content
    assert Host.objects.get(pk=host.pk).pm_password_encrypted == stored


@pytest.mark.parametrize("change, words", [
    ({"port": 70000}, "65535"),
    ({"address": "bmc; rm -rf /"}, "address"),
    ({"agent": "redfish"}, "not supported yet"),
    ({"options": "run=/bin/sh"}, "run"),
])
def test_it_refuses_bad_power_settings_and_saves_nothing(api, bmc, change, words):
    host = HostFactory()
    response = api.patch(f"/api/v1/hosts/{host.pk}/", {"power_management": power(bmc, **change)}, format="json")
    assert response.status_code == 400
    assert words in str(response.json())
    assert Host.objects.get(pk=host.pk).pm_address == ""


@pytest.mark.real
def test_it_reads_the_power_status_through_the_bmc(api, bmc):
    host = HostFactory()
    api.patch(f"/api/v1/hosts/{host.pk}/", {"power_management": power(bmc)}, format="json")
    bmc.set_power_state("on")
    response = api.post(f"/api/v1/hosts/{host.pk}/power-test/")
    assert response.status_code == 200 and response.json() == {"status": "on"}
    assert Event.objects.filter(code="host.power_test", severity="normal").exists()


@pytest.mark.real
def test_it_answers_503_with_the_reason_when_the_bmc_refuses(api, bmc):
    host = HostFactory()
    api.patch(f"/api/v1/hosts/{host.pk}/", {"power_management": power(bmc, password="wrong-password")}, format="json")
    response = api.post(f"/api/v1/hosts/{host.pk}/power-test/")
    assert response.status_code == 503
    assert response.json()["code"] == "power_management_failed"
    assert "wrong-password" not in response.json()["detail"]


def test_it_adds_a_host_with_power_management_in_one_request(api, bmc):
    response = api.post("/api/v1/hosts/", {
        "name": "node1", "cluster": ClusterFactory().pk, "uri": simulated_host_uri(),
        "power_management": power(bmc),
    }, format="json")
    assert response.status_code == 202, response.content
    assert response.json()["host"]["power_management"]["password_set"] is True
    assert decrypt_secret(Host.objects.get(name="node1").pm_password_encrypted) == bmc.password


@pytest.mark.real
def test_the_host_pages_test_button_says_what_the_bmc_answered(api, admin, client, bmc):
    host = HostFactory()
    api.patch(f"/api/v1/hosts/{host.pk}/", {"power_management": power(bmc)}, format="json")
    bmc.set_power_state("on")
    client.force_login(admin)
    response = client.post(f"/hosts/{host.pk}/power-test/", follow=True)
    assert response.status_code == 200
    assert "The BMC answers: power is on." in [str(m) for m in response.context["messages"]]
