import pytest

from tests.inventory.factories import HostFactory, simulated_host_uri

pytestmark = pytest.mark.django_db

NOTHING_LISTENS = "redis://127.0.0.1:1/0"


def test_it_says_redis_is_down_instead_of_raising(client, settings):
    settings.REDIS_URL = NOTHING_LISTENS
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "failing"
    assert body["database"] == {"ok": True}
    assert body["redis"]["ok"] is False
    assert "Redis at redis://127.0.0.1:1/0 is not answering" in body["redis"]["error"]


def test_it_reports_each_host_connection(client, redis_url):
    HostFactory(name="sim", uri=simulated_host_uri())
    HostFactory(name="gone", uri="qemu+tcp://127.0.0.1:1/system")
    body = client.get("/healthz").json()
    assert body["redis"] == {"ok": True}
    hosts = {host["name"]: host for host in body["hosts"]}
    assert hosts["sim"]["ok"] is True
    assert hosts["gone"]["ok"] is False and hosts["gone"]["error"]
