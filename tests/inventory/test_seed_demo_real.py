"""`manage.py seed_demo` on the real host: the demo is ready for a first VM
without any clicks (host up and SPM, its data domain and VM network being attached)."""

import io

import pytest
from django.core.management import call_command

from core.models import Job
from inventory.choices import HostStatus, NetworkStatus, StorageDomainStatus
from inventory.models import Host, Network, StorageDomain

pytestmark = [pytest.mark.real, pytest.mark.django_db]


def test_it_brings_the_local_host_up_and_attaches_the_demo_storage_and_network(libvirtd):
    out = io.StringIO()
    call_command("seed_demo", uri=libvirtd, stdout=out)
    host = Host.objects.get(name="localhost")
    assert host.status == HostStatus.UP and host.facts_updated_at is not None
    assert host.cluster.data_center.spm_host_id == host.pk
    domain = StorageDomain.objects.get(name="local-data")
    assert domain.status == StorageDomainStatus.LOCKED
    assert Job.objects.get(kind="storagedomain.attach").target_id == str(domain.pk)
    network = Network.objects.get(name="vm-network", data_center=host.cluster.data_center)
    assert network.status == NetworkStatus.LOCKED
    assert Job.objects.get(kind="network.attach").target_id == str(network.pk)
    assert "Storage domain local-data is being attached" in out.getvalue()
    assert "Network vm-network is being attached" in out.getvalue()

    call_command("seed_demo", uri=libvirtd, stdout=io.StringIO())  # again: harmless
    assert Job.objects.filter(kind="storagedomain.attach").count() == 1
    assert Job.objects.filter(kind="network.attach").count() == 1
