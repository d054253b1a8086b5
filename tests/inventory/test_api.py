"""Read-only inventory endpoints: API.md names and shapes, constant queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from inventory.choices import HostStatus
from tests.inventory.factories import (
    ClusterFactory,
    DataCenterFactory,
    HostFactory,
    StorageDomainFactory,
)

pytestmark = pytest.mark.django_db

NUMA = [{"index": 0, "cpus": [0, 1], "memory_mb": 2048}, {"index": 1, "cpus": [2, 3], "memory_mb": 2048}]


def test_it_lists_hosts_with_their_facts(api):
    host = HostFactory(
        status=HostStatus.UP, cpu_model="Skylake", cpu_sockets=2, cpu_cores_per_socket=1,
        cpu_threads_per_core=2, cpu_total=4, memory_mb=4096, numa_nodes=NUMA, kvm=False,
        libvirt_version="9.0.0", qemu_version="7.2.0",
    )
    [row] = api.get("/api/v1/hosts/").json()["results"]
    assert row["id"] == host.pk and row["name"] == host.name
    assert row["status"] == "up"
    assert row["cpu"] == {"model": "Skylake", "sockets": 2, "cores_per_socket": 1, "threads_per_core": 2, "total": 4}
    assert row["numa_nodes"] == NUMA
    assert row["memory_mb"] == 4096 and row["kvm"] is False
    assert row["libvirt_version"] == "9.0.0" and row["qemu_version"] == "7.2.0"
    assert row["is_spm"] is False
    assert row["spm_priority"] == 5


def test_it_derives_the_data_center_status_from_its_hosts_and_spm(api):
    from inventory.services import spm_review

    empty = DataCenterFactory()
    healthy = HostFactory(status=HostStatus.UP).cluster.data_center
    spm_review(data_center=healthy)
    broken = HostFactory(status=HostStatus.NON_RESPONSIVE).cluster.data_center
    resting = HostFactory(status=HostStatus.MAINTENANCE).cluster.data_center
    no_spm = HostFactory(status=HostStatus.UP, spm_priority=-1).cluster.data_center
    statuses = {row["id"]: row["status"] for row in api.get("/api/v1/datacenters/").json()["results"]}
    assert statuses == {
        empty.pk: "uninitialized", healthy.pk: "up", broken.pk: "problematic",
        resting.pk: "maintenance", no_spm.pk: "problematic",
    }


def test_it_filters_data_centers_by_classification(api):
    DataCenterFactory(classification="customer", name="acme")
    DataCenterFactory(classification="service", name="web")
    names = [row["name"] for row in api.get("/api/v1/datacenters/?classification=customer").json()["results"]]
    assert names == ["acme"]


def test_it_filters_hosts_by_cluster_and_status_and_searches_names(api):
    cluster = ClusterFactory()
    HostFactory(cluster=cluster, status=HostStatus.UP, name="alpha")
    HostFactory(cluster=cluster, status=HostStatus.DOWN, name="beta")
    HostFactory(status=HostStatus.UP, name="gamma")
    rows = api.get(f"/api/v1/hosts/?cluster={cluster.pk}&status=up").json()["results"]
    assert [row["name"] for row in rows] == ["alpha"]
    assert [row["name"] for row in api.get("/api/v1/hosts/?q=amm").json()["results"]] == ["gamma"]


def test_it_shows_storage_domain_capacity_fields(api):
    StorageDomainFactory(capacity_bytes=100, allocated_bytes=40, available_bytes=60)
    [row] = api.get("/api/v1/storagedomains/").json()["results"]
    assert (row["capacity_bytes"], row["allocated_bytes"], row["available_bytes"]) == (100, 40, 60)
    assert row["domain_type"] == "data" and row["storage_type"] == "dir"


def test_it_hides_the_inventory_from_a_user_without_grants(charlie):
    HostFactory()
    client = APIClient()
    client.force_authenticate(charlie)
    assert client.get("/api/v1/hosts/").json()["count"] == 0


@pytest.mark.parametrize("path, factory", [
    ("/api/v1/hosts/", HostFactory),
    ("/api/v1/datacenters/", DataCenterFactory),
    ("/api/v1/clusters/", ClusterFactory),
    ("/api/v1/storagedomains/", StorageDomainFactory),
])
def test_it_lists_with_a_query_count_that_does_not_grow(api, path, factory):
    def queries_for_list() -> int:
        with CaptureQueriesContext(connection) as context:
            assert api.get(path).status_code == 200
        return len(context)

    factory.create_batch(2)
    few = queries_for_list()
    factory.create_batch(20)
    assert queries_for_list() == few


def test_it_pages_annotated_lists_in_name_order(api):
    east, west = DataCenterFactory(name="east"), DataCenterFactory(name="west")
    for name, dc in [("c1", east), ("c4", west), ("c2", east), ("c3", west)]:
        ClusterFactory(name=name, data_center=dc)
    first = [row["name"] for row in api.get("/api/v1/clusters/?limit=2").json()["results"]]
    second = [row["name"] for row in api.get("/api/v1/clusters/?limit=2&offset=2").json()["results"]]
    assert first + second == ["c1", "c2", "c3", "c4"]
