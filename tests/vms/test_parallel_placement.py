"""Parallel starts and creates against a cluster with room for exactly 8 VMs
(jobs lane: a real worker runs the jobs, on simulated hosts it connects to
itself). Each request is a thread of its own with its own database
connection, all released at once: exactly 8 are accepted, the others are
refused naming the hosts' refusal, and no host ends over its limit."""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest
from django.db import connections
from rest_framework.test import APIClient

from core.models import Job, JobStatus
from tests.inventory.factories import ClusterFactory, DataCenterFactory, simulated_host_uri
from tests.vms.factories import OperatingSystemFactory, up_host
from vms.choices import VmStatus
from vms.models import Vm
from vms.selectors import hosts_commitment

pytestmark = [pytest.mark.jobs, pytest.mark.django_db(transaction=True)]

REQUESTS = 20
VM_MEMORY_MB = 1024
HOST_MEMORY_MB = 4 * VM_MEMORY_MB  # overcommit 100 %, no headroom: 4 VMs each, 8 in the cluster
ROOM = 8


@pytest.fixture
def cluster(db):
    cluster = ClusterFactory(name="tight", data_center=DataCenterFactory(name="dc-tight"),
                             memory_overcommit_percent=100, reserved_headroom_percent=0)
    for name, node in (("node-a", "small.xml"), ("node-b", "two-socket-ht.xml")):
        host = up_host(cluster, name, memory_mb=HOST_MEMORY_MB)
        host.uri = simulated_host_uri(node)
        host.save(update_fields=["uri"])
    return cluster


def in_parallel(admin, calls: list[tuple[str, dict]]) -> list:
    """POST each (url, body) from its own thread and connection, all released together."""
    gate = threading.Barrier(len(calls))
    responses: list = [None] * len(calls)

    def post(index: int, url: str, body: dict) -> None:
        client = APIClient()
        client.force_authenticate(admin)
        try:
            gate.wait()
            responses[index] = client.post(url, body, format="json")
        finally:
            connections.close_all()  # this thread's own connection

    threads = [threading.Thread(target=post, args=(i, url, body)) for i, (url, body) in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return responses


def wait_for_jobs(timeout: float = 60) -> list[Job]:
    deadline = time.monotonic() + timeout
    while Job.objects.filter(status__in=JobStatus.ACTIVE).exists():
        assert time.monotonic() < deadline, list(Job.objects.filter(status__in=JobStatus.ACTIVE).values("kind", "status"))
        time.sleep(0.1)
    return list(Job.objects.all())


def assert_exactly_room_accepted(responses) -> None:
    codes = Counter(response.status_code for response in responses)
    assert codes == {202: ROOM, 409: REQUESTS - ROOM}, [r.content[:200] for r in responses if r.status_code != 202]
    for response in responses:
        if response.status_code == 409:
            detail = response.json()["detail"]
            assert detail.startswith("No host can run VM") and "memory" in detail, detail


def assert_no_host_over_its_limit(cluster) -> None:
    hosts = list(cluster.hosts.all())
    committed = hosts_commitment([host.pk for host in hosts])
    for host in hosts:
        assert committed[host.pk].memory_mb <= HOST_MEMORY_MB, (host.name, committed[host.pk])
    assert sum(c.memory_mb for c in committed.values()) == ROOM * VM_MEMORY_MB


def assert_jobs_ran_and_the_accepted_vms_are_up(cluster) -> None:
    jobs = wait_for_jobs()
    assert [job.status for job in jobs] == [JobStatus.SUCCEEDED] * ROOM, [job.error for job in jobs]
    assert Vm.objects.filter(cluster=cluster, status=VmStatus.UP).count() == ROOM
    assert_no_host_over_its_limit(cluster)


def test_parallel_starts_accept_exactly_the_room_there_is(worker, admin, cluster):
    os_type = OperatingSystemFactory()
    ran_before_on = cluster.hosts.get(name="node-a")  # as on the demo host where this was seen
    vms = [Vm.objects.create(name=f"par-{n:02}", cluster=cluster, data_center=cluster.data_center, os_type=os_type,
                             memory_mb=VM_MEMORY_MB, memory_guaranteed_mb=VM_MEMORY_MB, status=VmStatus.DOWN,
                             host=ran_before_on)
           for n in range(REQUESTS)]

    responses = in_parallel(admin, [(f"/api/v1/vms/{vm.pk}/start/", {}) for vm in vms])

    assert_exactly_room_accepted(responses)
    assert_no_host_over_its_limit(cluster)  # counted from the claim, before any job ran
    assert Vm.objects.filter(status=VmStatus.DOWN).count() == REQUESTS - ROOM
    assert_jobs_ran_and_the_accepted_vms_are_up(cluster)


def test_parallel_creates_that_start_accept_exactly_the_room_there_is(worker, admin, cluster):
    OperatingSystemFactory()
    body = {"cluster": cluster.pk, "os_type": "debian11", "memory_mb": VM_MEMORY_MB, "start": True}

    responses = in_parallel(admin, [("/api/v1/vms/", {**body, "name": f"new-{n:02}"}) for n in range(REQUESTS)])

    assert_exactly_room_accepted(responses)
    assert Vm.objects.count() == ROOM, "a refused create leaves nothing behind"
    assert_no_host_over_its_limit(cluster)  # a VM created to start counts from its creation
    assert_jobs_ran_and_the_accepted_vms_are_up(cluster)
