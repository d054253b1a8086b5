"""A host joins its cluster only if it can offer the cluster's CPU model
(libvirt's domain capabilities on the real host)."""

import pytest

from core.jobs import job_create
from inventory.choices import HostStatus
from inventory.models import Host
from tests.inventory.factories import ClusterFactory, HostFactory
from tests.support.jobs import run_job

pytestmark = [pytest.mark.real, pytest.mark.django_db]


def refresh(host: Host) -> Host:
    job = job_create(title="refresh", task="host.refresh", steps=["Connect", "Read host facts"], target=host)
    run_job(job)
    return Host.objects.get(pk=host.pk)


@pytest.mark.parametrize("model, status", [
    ("qemu64", HostStatus.UP),
    ("", HostStatus.UP),
    ("Skylake-Server-IBRS", HostStatus.NON_OPERATIONAL),  # TCG cannot offer it here
])
def test_it_checks_the_cluster_cpu_model_against_the_real_host(libvirtd, model, status):
    host = refresh(HostFactory(uri=libvirtd, cluster=ClusterFactory(cpu_model=model), status=HostStatus.UP))
    assert host.status == status
    if status == HostStatus.NON_OPERATIONAL:
        assert f"needs CPU model {model}" in host.status_reason and "it offers" in host.status_reason
