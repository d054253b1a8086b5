"""Storage domains realised as pools on simulated hosts (libvirt's test driver).

The test driver keeps pools in memory per simulated host, with fixed figures
(100 GiB capacity, 0 allocated, 100 GiB available) and no real directory; the
real figures are checked in tests/hypervisor/test_storage_real.py.
"""

from __future__ import annotations

import pytest

import hypervisor
from core.errors import Conflict, InvalidInput
from core.models import Event, Job, JobStatus, Severity, StepStatus
from hypervisor.storage import list_pools, pool_info, remove_pool
from inventory.choices import HostStatus, StorageDomainStatus, StorageType
from inventory.models import StorageDomain
from inventory.services.storage import (
    storage_domain_attach,
    storage_domain_detach,
    storage_domain_refresh,
    storage_domains_connect_host,
    storage_domains_refresh_all,
    storage_pool_name,
)
from inventory.services.spm import spm_review
from tests.inventory.factories import ClusterFactory, HostFactory, StorageDomainFactory, simulated_host_uri
from tests.support.jobs import run_job

pytestmark = pytest.mark.django_db

GIB = 1024**3
TEST_DRIVER_CAPACITY = 100 * GIB
UNREACHABLE = "qemu+tcp://127.0.0.1:1/system"


@pytest.fixture(autouse=True)
def fresh_simulated_hosts():
    """Each test starts with simulated hosts that have no pools: the test
    driver's state lives as long as the (cached) connection."""
    hypervisor.close_all()
    yield
    hypervisor.close_all()


@pytest.fixture
def spm():
    """An up simulated host, elected SPM of its data center."""
    host = HostFactory(
        name="spm-host", uri=simulated_host_uri("two-socket-ht.xml"), status=HostStatus.UP, spm_priority=9
    )
    assert spm_review(data_center=host.cluster.data_center) == host
    return host


@pytest.fixture
def domain(spm, tmp_path):
    return StorageDomainFactory(name="data1", data_center=spm.cluster.data_center, path=str(tmp_path / "data1"))


def attach(domain, user) -> Job:
    job = storage_domain_attach(domain=domain, user=user)
    job = run_job(job)
    domain.refresh_from_db()
    return job


def detach(domain, user) -> Job:
    job = storage_domain_detach(domain=domain, user=user)
    job = run_job(job)
    domain.refresh_from_db()
    return job


def status_of(domain) -> str:
    return StorageDomain.objects.get(pk=domain.pk).status


class TestAttach:
    def test_it_locks_the_domain_and_starts_a_job_with_a_step_per_host(self, domain, spm, admin):
        other = HostFactory(
            name="b-host", cluster=spm.cluster, uri=simulated_host_uri("small.xml"), status=HostStatus.UP
        )

        job = storage_domain_attach(domain=domain, user=admin)

        assert status_of(domain) == StorageDomainStatus.LOCKED
        assert job.title == "Attach storage domain data1" and job.status == JobStatus.PENDING
        assert job.kind == "storagedomain.attach" and job.target_id == str(domain.pk)
        assert [s["name"] for s in job.steps] == [
            "Create storage pool on spm-host", f"Create storage pool on {other.name}", "Read capacity",
        ]
        event = Event.objects.get(code="storagedomain.locked")
        assert "was unattached" in event.message and "through SPM host spm-host" in event.message
        assert event.user == admin

    def test_it_creates_the_pool_on_every_up_host_and_stores_the_figures(self, domain, spm, admin):
        other = HostFactory(cluster=ClusterFactory(data_center=spm.cluster.data_center),
                            uri=simulated_host_uri("small.xml"), status=HostStatus.UP)
        down = HostFactory(cluster=spm.cluster, uri=UNREACHABLE, status=HostStatus.MAINTENANCE)

        job = attach(domain, admin)

        assert job.status == JobStatus.SUCCEEDED, job.error
        assert all(step["status"] == StepStatus.DONE for step in job.steps)
        assert domain.status == StorageDomainStatus.ACTIVE
        figures = (domain.capacity_bytes, domain.allocated_bytes, domain.available_bytes)
        assert figures == (TEST_DRIVER_CAPACITY, 0, TEST_DRIVER_CAPACITY)
        assert domain.refreshed_at is not None
        name = storage_pool_name(domain)
        assert name == f"pt-sd-{domain.pk}"
        for host in (spm, other):
            info = pool_info(host.uri, name)
            assert info.state == "running" and info.path == domain.path
        assert not any(f"Create storage pool on {down.name}" == s["name"] for s in job.steps)
        active = Event.objects.get(code="storagedomain.active")
        assert "100.0 GiB capacity" in active.message and "SPM host spm-host" in active.message
        assert active.job_id == job.pk and active.user == admin

    def test_it_refuses_without_an_spm_host_up_and_changes_nothing(self, admin, tmp_path):
        host = HostFactory(uri=simulated_host_uri(), status=HostStatus.MAINTENANCE)
        data_center = host.cluster.data_center
        domain = StorageDomainFactory(data_center=data_center, path=str(tmp_path))

        with pytest.raises(Conflict) as caught:
            storage_domain_attach(domain=domain, user=admin)

        assert caught.value.status_code == 409
        assert f"Data center {data_center.name} has no SPM host up" in caught.value.detail
        assert status_of(domain) == StorageDomainStatus.UNATTACHED
        assert not Job.objects.exists()
        assert not Event.objects.filter(code__startswith="storagedomain.").exists()

    def test_it_refuses_a_domain_that_is_locked(self, domain, admin):
        StorageDomain.objects.filter(pk=domain.pk).update(status=StorageDomainStatus.LOCKED)

        with pytest.raises(Conflict) as caught:
            storage_domain_attach(domain=domain, user=admin)

        assert "is locked (another job is working on it)" in caught.value.detail
        assert status_of(domain) == StorageDomainStatus.LOCKED
        assert not Job.objects.exists()

    def test_it_refuses_a_domain_that_is_already_active(self, domain, admin):
        attach(domain, admin)

        with pytest.raises(Conflict) as caught:
            storage_domain_attach(domain=domain, user=admin)

        assert "is active; only an unattached or inactive storage domain can be attached" in caught.value.detail
        assert status_of(domain) == StorageDomainStatus.ACTIVE

    def test_a_failing_spm_fails_the_job_and_unlocks_the_domain_saying_why(self, admin, tmp_path):
        broken = HostFactory(name="broken-spm", uri=UNREACHABLE, status=HostStatus.UP)
        spm_review(data_center=broken.cluster.data_center)
        domain = StorageDomainFactory(data_center=broken.cluster.data_center, path=str(tmp_path))

        job = attach(domain, admin)

        assert job.status == JobStatus.FAILED
        assert job.error.startswith("Host broken-spm: Cannot reach the hypervisor")
        assert job.steps[0]["status"] == StepStatus.FAILED
        assert domain.status == StorageDomainStatus.INACTIVE
        assert domain.capacity_bytes is None
        unlocked = Event.objects.get(code="storagedomain.inactive")
        assert unlocked.severity == Severity.WARNING and "was locked" in unlocked.message
        assert "Host broken-spm" in unlocked.message
        failed = Event.objects.get(code=f"{job.kind}.failed")
        assert failed.severity == Severity.ERROR and failed.job_id == job.pk

    def test_an_inactive_domain_can_be_attached_again(self, domain, spm, admin):
        StorageDomain.objects.filter(pk=domain.pk).update(status=StorageDomainStatus.INACTIVE)

        assert attach(domain, admin).status == JobStatus.SUCCEEDED
        assert domain.status == StorageDomainStatus.ACTIVE

    def test_a_failing_host_that_is_not_the_spm_is_reported_but_does_not_stop_the_attach(self, domain, spm, admin):
        broken = HostFactory(name="zz-broken", cluster=spm.cluster, uri=UNREACHABLE, status=HostStatus.UP)

        job = attach(domain, admin)

        assert job.status == JobStatus.SUCCEEDED
        steps = {s["name"]: s["status"] for s in job.steps}
        assert steps["Create storage pool on zz-broken"] == StepStatus.FAILED
        assert steps["Read capacity"] == StepStatus.DONE
        assert domain.status == StorageDomainStatus.ACTIVE
        warning = Event.objects.get(code="storagedomain.host_failed")
        assert warning.severity == Severity.WARNING and broken.name in warning.message

    def test_a_pool_over_the_same_directory_on_the_spm_fails_the_attach(self, domain, spm, admin):
        first = StorageDomainFactory(data_center=domain.data_center, path=domain.path)
        attach(first, admin)

        job = attach(domain, admin)

        assert job.status == JobStatus.FAILED
        assert f"already the storage pool 'pt-sd-{first.pk}'" in job.error
        assert domain.status == StorageDomainStatus.INACTIVE

    @pytest.mark.parametrize("fields, words", [
        ({"storage_type": StorageType.NFS}, "of type NFS"),
        ({"path": "relative/dir"}, "must be absolute"),
    ])
    def test_it_refuses_a_domain_that_cannot_be_a_pool(self, spm, admin, fields, words):
        domain = StorageDomainFactory(data_center=spm.cluster.data_center, **fields)

        with pytest.raises(InvalidInput) as caught:
            storage_domain_attach(domain=domain, user=admin)

        assert words in caught.value.detail
        assert status_of(domain) == StorageDomainStatus.UNATTACHED

    def test_a_local_storage_domain_is_a_directory_pool_too(self, spm, admin, tmp_path):
        domain = StorageDomainFactory(data_center=spm.cluster.data_center, storage_type=StorageType.LOCALFS,
                                      path=str(tmp_path))
        assert attach(domain, admin).status == JobStatus.SUCCEEDED

    def test_the_job_does_nothing_to_a_domain_that_is_no_longer_locked(self, domain, spm, admin):
        job = storage_domain_attach(domain=domain, user=admin)
        StorageDomain.objects.filter(pk=domain.pk).update(status=StorageDomainStatus.UNATTACHED)

        job = run_job(job)

        job.refresh_from_db()
        assert job.status == JobStatus.FAILED and "not locked for this job" in job.error
        assert status_of(domain) == StorageDomainStatus.UNATTACHED
        assert storage_pool_name(domain) not in list_pools(spm.uri)


class TestDetach:
    def test_it_removes_the_pools_keeps_the_files_and_leaves_the_domain_unattached(self, domain, spm, admin):
        other = HostFactory(cluster=spm.cluster, uri=simulated_host_uri("small.xml"), status=HostStatus.UP)
        attach(domain, admin)

        job = detach(domain, admin)

        assert job.status == JobStatus.SUCCEEDED, job.error
        assert job.title == "Detach storage domain data1"
        assert domain.status == StorageDomainStatus.UNATTACHED
        assert domain.capacity_bytes is None and domain.refreshed_at is None
        for host in (spm, other):
            assert storage_pool_name(domain) not in list_pools(host.uri)
        event = Event.objects.get(code="storagedomain.unattached")
        assert "files in" in event.message and "are kept" in event.message

    def test_it_refuses_a_domain_that_is_not_attached(self, domain, admin):
        with pytest.raises(Conflict) as caught:
            storage_domain_detach(domain=domain, user=admin)

        assert "is unattached; only an active or inactive storage domain can be detached" in caught.value.detail

    def test_a_pool_already_gone_is_no_obstacle(self, domain, spm, admin):
        attach(domain, admin)
        remove_pool(spm.uri, storage_pool_name(domain))

        assert detach(domain, admin).status == JobStatus.SUCCEEDED
        assert domain.status == StorageDomainStatus.UNATTACHED

    def test_a_failing_spm_fails_the_detach_and_leaves_the_domain_inactive(self, domain, spm, admin):
        attach(domain, admin)
        spm.__class__.objects.filter(pk=spm.pk).update(uri=UNREACHABLE)

        job = detach(domain, admin)

        assert job.status == JobStatus.FAILED and "Host spm-host" in job.error
        assert domain.status == StorageDomainStatus.INACTIVE


class TestRefresh:
    def test_it_refreshes_every_active_domain_and_marks_a_failing_one_inactive(self, domain, spm, admin, tmp_path):
        attach(domain, admin)
        before = domain.refreshed_at
        broken_spm = HostFactory(name="broken-spm", uri=UNREACHABLE, status=HostStatus.UP)
        spm_review(data_center=broken_spm.cluster.data_center)
        elsewhere = StorageDomainFactory(name="elsewhere", data_center=broken_spm.cluster.data_center,
                                         path=str(tmp_path), status=StorageDomainStatus.ACTIVE)
        never = StorageDomainFactory(data_center=spm.cluster.data_center, path=str(tmp_path / "never"))

        storage_domains_refresh_all()

        domain.refresh_from_db()
        assert domain.status == StorageDomainStatus.ACTIVE and domain.refreshed_at > before
        assert domain.capacity_bytes == TEST_DRIVER_CAPACITY
        elsewhere.refresh_from_db()
        assert elsewhere.status == StorageDomainStatus.INACTIVE
        event = Event.objects.get(code="storagedomain.inactive", target_id=str(elsewhere.pk))
        assert "was active" in event.message and "Host broken-spm: Cannot reach" in event.message
        assert status_of(never) == StorageDomainStatus.UNATTACHED

    def test_a_pool_that_vanished_from_the_spm_makes_the_domain_inactive(self, domain, spm, admin):
        attach(domain, admin)
        remove_pool(spm.uri, storage_pool_name(domain))

        storage_domains_refresh_all()

        assert status_of(domain) == StorageDomainStatus.INACTIVE
        assert "Object not found" in Event.objects.get(code="storagedomain.inactive").message

    def test_a_stopped_pool_on_the_spm_makes_the_domain_inactive(self, domain, spm, admin):
        attach(domain, admin)
        hypervisor.get_connection(spm.uri).storagePoolLookupByName(storage_pool_name(domain)).destroy()

        storage_domains_refresh_all()

        assert status_of(domain) == StorageDomainStatus.INACTIVE
        assert "is inactive, not running" in Event.objects.get(code="storagedomain.inactive").message

    def test_a_data_center_without_spm_makes_its_domains_inactive(self, domain, spm, admin):
        attach(domain, admin)
        spm.__class__.objects.filter(pk=spm.pk).update(status=HostStatus.NON_RESPONSIVE)

        storage_domains_refresh_all()

        assert status_of(domain) == StorageDomainStatus.INACTIVE
        assert "has no SPM host up" in Event.objects.get(code="storagedomain.inactive").message

    def test_it_leaves_a_domain_locked_by_a_job_alone(self, domain, spm, admin):
        attach(domain, admin)
        StorageDomain.objects.filter(pk=domain.pk).update(status=StorageDomainStatus.LOCKED, capacity_bytes=1)

        storage_domain_refresh(domain=domain)

        assert StorageDomain.objects.get(pk=domain.pk).capacity_bytes == 1


class TestConnectHost:
    def test_a_host_that_comes_up_later_gets_the_pools_of_the_active_domains(self, domain, spm, admin, tmp_path):
        attach(domain, admin)
        StorageDomainFactory(data_center=spm.cluster.data_center, path=str(tmp_path / "unattached"))
        late = HostFactory(cluster=spm.cluster, uri=simulated_host_uri("small.xml"), status=HostStatus.UP)

        assert storage_domains_connect_host(host=late) == 1

        assert list_pools(late.uri) == (storage_pool_name(domain),)

    def test_an_unreachable_host_is_a_warning_not_an_error(self, domain, spm, admin):
        attach(domain, admin)
        late = HostFactory(name="late", cluster=spm.cluster, uri=UNREACHABLE, status=HostStatus.UP)

        assert storage_domains_connect_host(host=late) == 0

        warning = Event.objects.get(code="storagedomain.host_failed")
        assert "not available on host late" in warning.message
