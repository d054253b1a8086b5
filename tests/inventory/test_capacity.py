"""A cluster's capacity: up hosts only, overcommit and headroom applied,
commitments from registered sources."""

import pytest

from inventory import capacity
from inventory.capacity import Commitment
from inventory.choices import HostStatus
from tests.inventory.factories import ClusterFactory, HostFactory

pytestmark = pytest.mark.django_db


def host(cluster, status=HostStatus.UP, memory_mb=8192):
    # 2 sockets x 4 cores x 2 threads = 16 threads, 8 cores
    return HostFactory(cluster=cluster, status=status, memory_mb=memory_mb, cpu_total=16,
                       cpu_sockets=2, cpu_cores_per_socket=4, cpu_threads_per_core=2)


def capacity_of(api, cluster) -> dict:
    return api.get(f"/api/v1/clusters/{cluster.pk}/").json()["capacity"]


def test_it_counts_only_up_hosts_and_applies_overcommit_and_headroom(api):
    cluster = ClusterFactory(memory_overcommit_percent=150, reserved_headroom_percent=20)
    host(cluster)
    host(cluster)
    host(cluster, status=HostStatus.NON_RESPONSIVE)
    assert capacity_of(api, cluster) == {
        "physical_memory_mb": 16384,
        "memory_mb": int(16384 * 1.5 * 0.8),
        "memory_committed_mb": 0,
        "vcpus": 16,  # cores only: the cluster does not count threads as cores
        "vcpus_committed": 0,
    }


def test_it_counts_threads_when_the_cluster_counts_them_as_cores(api):
    cluster = ClusterFactory(threads_as_cores=True)
    host(cluster)
    assert capacity_of(api, cluster)["vcpus"] == 16
    other = ClusterFactory(threads_as_cores=False)
    host(other)
    assert capacity_of(api, other)["vcpus"] == 8


def test_it_adds_what_registered_sources_commit(api, monkeypatch):
    cluster = ClusterFactory()
    host(cluster)
    monkeypatch.setattr(capacity, "_cluster_sources", [])  # this test's source only, removed afterwards
    capacity.register_commitment_source(lambda ids: {i: Commitment(memory_mb=1024, vcpus=3) for i in ids})
    figures = api.get("/api/v1/clusters/").json()["results"][0]["capacity"]
    assert (figures["memory_committed_mb"], figures["vcpus_committed"]) == (1024, 3)


def test_it_has_no_capacity_without_up_hosts(api):
    cluster = ClusterFactory()
    host(cluster, status=HostStatus.MAINTENANCE)
    assert capacity_of(api, cluster)["memory_mb"] == 0 and capacity_of(api, cluster)["vcpus"] == 0
