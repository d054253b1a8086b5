"""Host monitoring and SPM election, on libvirt's test driver."""

import pytest
import hypervisor
from core.jobs import job_create
from core.models import Event
from inventory import services
from inventory.choices import HostStatus
from inventory.models import Host
from tests.inventory.factories import ClusterFactory, HostFactory, simulated_host_uri
from tests.support.jobs import run_job

pytestmark = pytest.mark.django_db

UNREACHABLE = "qemu+tcp://127.0.0.1:1/system"


def test_it_reads_the_facts_of_a_simulated_host_and_brings_it_up():
    # two-socket-ht.xml: 2 NUMA cells, each one socket of 4 cores x 2 threads, 32 GiB.
    host = HostFactory(uri=simulated_host_uri("two-socket-ht.xml"))
    services.host_check(host=host, read_facts=True)
    host.refresh_from_db()

    assert host.status == HostStatus.UP
    assert (host.cpu_sockets, host.cpu_cores_per_socket, host.cpu_threads_per_core) == (2, 4, 2)
    assert host.cpu_total == 16 and host.cpu_model == "Skylake-Server"
    assert host.memory_mb == 32768
    assert host.numa_nodes == [
        {"index": 0, "cpus": list(range(0, 8)), "memory_mb": 16384},
        {"index": 1, "cpus": list(range(8, 16)), "memory_mb": 16384},
    ]
    assert host.domain_type == "test" and host.kvm is False
    assert host.libvirt_version and host.facts_updated_at is not None


def test_it_marks_an_unreachable_host_non_responsive_with_the_reason():
    host = HostFactory(uri=UNREACHABLE, status=HostStatus.UP)
    with pytest.raises(hypervisor.HostUnreachable):
        services.host_check(host=host)
    host.refresh_from_db()
    assert host.status == HostStatus.NON_RESPONSIVE
    assert host.status_reason
    event = Event.objects.get(code="host.non_responsive")
    assert host.name in event.message and "was up" in event.message


def test_it_checks_every_host_even_when_one_is_unreachable():
    dead = HostFactory(uri=UNREACHABLE)
    alive = HostFactory(uri=simulated_host_uri("small.xml"))
    services.hosts_check_all()
    assert Host.objects.get(pk=dead.pk).status == HostStatus.NON_RESPONSIVE
    assert Host.objects.get(pk=alive.pk).status == HostStatus.UP


def test_it_leaves_a_host_in_maintenance_alone():
    host = HostFactory(uri=UNREACHABLE, status=HostStatus.MAINTENANCE)
    services.host_check(host=host)
    assert Host.objects.get(pk=host.pk).status == HostStatus.MAINTENANCE


def test_it_does_not_overwrite_a_status_that_changed_meanwhile():
    host = HostFactory(status=HostStatus.UP)
    Host.objects.filter(pk=host.pk).update(status=HostStatus.MAINTENANCE)
    changed = services.host_set_status(host=host, status=HostStatus.NON_RESPONSIVE)
    assert changed is False
    assert Host.objects.get(pk=host.pk).status == HostStatus.MAINTENANCE


def test_a_host_checked_up_again_has_not_changed():
    """host_check brings a host up and runs host_came_up only when it was not up already."""
    host = HostFactory(status=HostStatus.UP)
    assert services.host_set_status(host=host, status=HostStatus.UP) is False
    assert not Event.objects.filter(code="host.up").exists()


class TestSpm:
    def make_hosts(self, *priorities):
        cluster = ClusterFactory()
        return [HostFactory(cluster=cluster, spm_priority=p, status=HostStatus.UP) for p in priorities]

    def test_it_elects_the_up_host_with_the_highest_priority(self):
        low, high, _ = self.make_hosts(2, 7, 5)
        assert services.spm_review(data_center=low.cluster.data_center) == high
        assert Event.objects.filter(code="spm.elected").exists()

    def test_it_never_elects_a_host_with_priority_minus_one(self):
        (never,) = self.make_hosts(-1)
        assert services.spm_review(data_center=never.cluster.data_center) is None

    def test_it_says_so_when_the_spm_leaves_and_no_host_can_take_over(self):
        spm, _ = self.make_hosts(5, -1)
        services.spm_review(data_center=spm.cluster.data_center)
        services.host_set_status(host=spm, status=HostStatus.NON_RESPONSIVE, reason="gone")
        assert spm.cluster.data_center.__class__.objects.get(pk=spm.cluster.data_center_id).spm_host is None
        assert Event.objects.filter(code="spm.none").exists()

    def test_it_hands_the_role_over_when_the_spm_host_leaves_up(self):
        first, second = self.make_hosts(7, 5)
        data_center = first.cluster.data_center
        services.spm_review(data_center=data_center)
        services.host_set_status(host=first, status=HostStatus.NON_RESPONSIVE, reason="gone")
        data_center.refresh_from_db()
        assert data_center.spm_host == second


def test_it_seeds_the_demo_data_center_once(tmp_path):
    first = services.demo_seed(storage_path=str(tmp_path))
    second = services.demo_seed(storage_path=str(tmp_path))
    assert first == second
    assert first.cluster.name == "Default" and first.cluster.data_center.name == "Default"
    assert first.uri == "qemu:///system"
    assert Event.objects.filter(code="host.added").count() == 1


def test_it_does_not_block_a_host_whose_driver_cannot_list_cpu_models(admin):
    host = HostFactory(uri=simulated_host_uri("small.xml"), cluster=ClusterFactory(cpu_model="Skylake-Server"))
    job = job_create(title="refresh", task="host.refresh", steps=["Connect", "Read host facts"], target=host)
    run_job(job)
    assert Host.objects.get(pk=host.pk).status == HostStatus.UP
