"""Logical networks on a namespaced host: the attach job creates the Linux bridge
inside the host's network namespace, and a host that loses an active network is
non operational, saying which."""

from __future__ import annotations

import subprocess
import uuid

import pytest

import hypervisor
from core.models import JobStatus
from hypervisor.network import list_networks, remove_network
from inventory.choices import HostStatus
from inventory.choices import NetworkStatus
from inventory.services.network import (
    network_attach,
    network_check_host,
    network_create,
    network_libvirt_name,
)
from tests.inventory.factories import HostFactory
from tests.support.jobs import run_job

pytestmark = [pytest.mark.multihost, pytest.mark.django_db]


def bridge_in_namespace(host_name: str, bridge: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", "netns", "exec", f"pt-{host_name}", "ip", "-d", "link", "show", bridge],
                          capture_output=True, text=True, timeout=30)


def test_attach_creates_the_bridge_in_the_hosts_namespace_and_a_lost_one_makes_it_non_operational(
    testhost, admin
):
    alpha = testhost("alpha")
    for leftover in list_networks(alpha.uri):  # of an interrupted run
        if leftover.bridge.startswith("ptbr-mh-"):
            remove_network(alpha.uri, leftover.name)
    host = HostFactory(name="alpha", uri=alpha.uri, status=HostStatus.UP)
    bridge = f"ptbr-mh-{uuid.uuid4().hex[:6]}"
    network = network_create(data_center=host.cluster.data_center, name=bridge, mtu=1400, user=admin)
    name = network_libvirt_name(network)
    try:
        job = network_attach(network=network, user=admin)
        job = run_job(job)
        network.refresh_from_db()

        assert job.status == JobStatus.SUCCEEDED, job.error
        assert network.status == NetworkStatus.ACTIVE
        link = bridge_in_namespace("alpha", bridge)
        assert link.returncode == 0, link.stderr
        assert " bridge " in link.stdout and "mtu 1400" in link.stdout
        # In the host's namespace only, not in ours.
        assert subprocess.run(["ip", "link", "show", bridge], capture_output=True).returncode != 0
        assert network_check_host(host=host) == []

        remove_network(alpha.uri, name)
        assert bridge_in_namespace("alpha", bridge).returncode != 0
        assert network_check_host(host=host) == [bridge]
        host.refresh_from_db()
        assert host.status == HostStatus.NON_OPERATIONAL
        assert host.status_reason == f"network {bridge} missing: not defined on host alpha"
    finally:
        remove_network(alpha.uri, name)
        hypervisor.close_all()
    assert bridge_in_namespace("alpha", bridge).returncode != 0
