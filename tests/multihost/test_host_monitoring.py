"""A host whose libvirtd stops answering turns non_responsive, and comes back
up by itself when the daemon returns (a namespaced test host, never the
daemon the other tests use)."""

import time

import pytest

import hypervisor
from core.models import Event
from inventory import services
from inventory.choices import HostStatus
from inventory.models import Host
from tests.inventory.factories import HostFactory
from tests.support.jobs import run_job

pytestmark = [pytest.mark.multihost, pytest.mark.django_db]


def test_it_marks_a_host_non_responsive_when_its_daemon_stops_and_up_when_it_returns(testhost):
    beta = testhost("beta")
    host = HostFactory(name="beta", uri=beta.uri)
    services.host_check(host=Host.objects.get(pk=host.pk), read_facts=True)
    assert Host.objects.get(pk=host.pk).status == HostStatus.UP
    assert Host.objects.get(pk=host.pk).hostname == "beta"

    beta.stop_daemon()
    started = time.monotonic()
    services.hosts_check_all()
    noticed_after = time.monotonic() - started
    lost = Host.objects.get(pk=host.pk)
    assert lost.status == HostStatus.NON_RESPONSIVE
    assert lost.status_reason
    assert noticed_after < 30, f"one check round took {noticed_after:.1f}s"

    beta.start_daemon()
    services.hosts_check_all()
    assert Host.objects.get(pk=host.pk).status == HostStatus.UP
    codes = list(Event.objects.filter(target_id=str(host.pk)).values_list("code", flat=True))
    assert "host.non_responsive" in codes and codes.count("host.up") == 2


def test_it_reads_a_namespaced_hosts_facts_through_the_add_job(testhost, admin):
    gamma = testhost("gamma")
    host, job = services.host_add(name="gamma", cluster=HostFactory().cluster, uri=gamma.uri, user=admin)
    run_job(job)
    host = Host.objects.get(pk=host.pk)
    assert host.status == HostStatus.UP and host.hostname == "gamma"
    assert host.cpu_total == hypervisor.read_host_info(gamma.uri).cpu_total
