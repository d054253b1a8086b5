"""/healthz: the overall status for anyone, the details for system admins
(or everyone, when HEALTHZ_DETAILS says so)."""

import pytest

from tests.inventory.factories import HostFactory, simulated_host_uri

pytestmark = pytest.mark.django_db

NOTHING_LISTENS = "redis://127.0.0.1:1/0"
LOST_URI = "qemu+tcp://127.0.0.1:1/system"


@pytest.fixture
def as_admin(client, admin):
    client.force_login(admin)
    return client


def test_it_says_redis_is_down_instead_of_raising(as_admin, settings):
    settings.REDIS_URL = NOTHING_LISTENS
    response = as_admin.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "failing" and body["code"] == "redis_unreachable"
    assert body["database"] == {"ok": True}
    assert body["redis"]["ok"] is False
    assert "Redis at redis://127.0.0.1:1/0 is not answering" in body["redis"]["error"]


def test_it_reports_each_host_connection_to_an_admin(as_admin, redis_url):
    HostFactory(name="sim", uri=simulated_host_uri())
    HostFactory(name="gone", uri=LOST_URI)
    body = as_admin.get("/healthz").json()
    assert body["redis"] == {"ok": True}
    hosts = {host["name"]: host for host in body["hosts"]}
    assert hosts["sim"]["ok"] is True
    assert hosts["gone"]["ok"] is False and hosts["gone"]["error"]


@pytest.mark.parametrize("who", ["anonymous", "charlie"])
def test_it_tells_others_only_the_status_and_a_code(client, charlie, redis_url, who):
    HostFactory(name="sim", uri=simulated_host_uri())
    HostFactory(name="gone-host", uri=LOST_URI)
    if who == "charlie":
        client.force_login(charlie)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "failing", "code": "host_unreachable"}
    text = response.content.decode()
    assert "gone-host" not in text and "127.0.0.1" not in text and "qemu" not in text


def test_it_tells_an_anonymous_caller_ok_when_all_is_well(client, redis_url):
    HostFactory(name="sim", uri=simulated_host_uri())
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_a_setting_shows_the_details_to_everyone(client, settings, redis_url):
    settings.HEALTHZ_DETAILS = True
    HostFactory(name="gone-host", uri=LOST_URI)
    body = client.get("/healthz").json()
    assert body["code"] == "host_unreachable" and body["hosts"][0]["name"] == "gone-host"
