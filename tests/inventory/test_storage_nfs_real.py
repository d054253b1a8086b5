"""An NFS storage domain attached to the real host, against a real NFS server
(NFS-Ganesha on loopback: see nfs_server.py). The attach job creates a libvirt
netfs pool there, which mounts the export. Where this machine's kernel cannot
mount NFS (no NFS client in it: "mount.nfs: No such device"), the working
attach is an expected failure saying so; a mount that fails is tested on every
machine: the job fails, the domain is left inactive, and the events say which
export could not be mounted where, and why."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest

import hypervisor
from core.models import Event, JobStatus, Severity
from hypervisor.storage import list_pools, remove_pool
from inventory.choices import HostStatus, StorageDomainStatus, StorageType
from inventory.models import StorageDomain
from inventory.services.spm import spm_review
from inventory.services.storage import storage_domain_attach, storage_pool_name
from tests.inventory.factories import HostFactory
from tests.inventory.nfs_server import GaneshaServer, kernel_nfs_mount_problem
from tests.support.jobs import run_job

pytestmark = [pytest.mark.real, pytest.mark.django_db]



@pytest.fixture(scope="module")
def nfs_server(tmp_path_factory) -> Iterator[GaneshaServer]:
    base = tmp_path_factory.mktemp("nfs-domain")
    export = base / "export"
    export.mkdir()
    (export / "marker.txt").write_text("served by ganesha\n")
    server = GaneshaServer(export_dir=export, state_dir=base / "state").start()
    yield server
    server.stop()


@pytest.fixture
def real_host(libvirtd):
    hypervisor.close_all()
    host = HostFactory(name="real-host", uri=libvirtd, status=HostStatus.UP)
    assert spm_review(data_center=host.cluster.data_center) == host
    yield host
    hypervisor.close_all()


@pytest.fixture
def nfs_domain(real_host, nfs_server, tmp_path):
    """A domain with an id no other run's uses: its pool pt-sd-<id> lives on
    the machine's shared libvirtd."""
    def make(export: str) -> StorageDomain:
        domain = StorageDomain.objects.create(
            pk=random.randint(10**8, 10**9), name="nfs-data", data_center=real_host.cluster.data_center,
            storage_type=StorageType.NFS, nfs_server=nfs_server.address, nfs_export=export,
            path=str(tmp_path / "mnt"),
        )
        made.append(domain)
        return domain

    made: list[StorageDomain] = []
    yield make
    for domain in made:
        for name in (storage_pool_name(domain), f"{storage_pool_name(domain)}-images"):
            if name in list_pools(real_host.uri):
                remove_pool(real_host.uri, name)


def attach(domain, user):
    job = storage_domain_attach(domain=domain, user=user)
    job = run_job(job)
    domain.refresh_from_db()
    return job


def test_a_failed_mount_fails_the_attach_with_clear_events_and_leaves_the_domain_inactive(
    admin, nfs_server, nfs_domain, real_host
):
    domain = nfs_domain("/no-such-export")

    job = attach(domain, admin)

    assert job.status == JobStatus.FAILED
    where = f"The NFS export {nfs_server.address}:/no-such-export could not be mounted at {domain.path}"
    assert job.error.startswith(f"Host real-host: {where} on {real_host.uri}: ")
    assert domain.status == StorageDomainStatus.INACTIVE
    inactive = Event.objects.get(code="storagedomain.inactive", target_id=str(domain.pk))
    assert inactive.severity == Severity.WARNING and where in inactive.message
    failed = Event.objects.get(code="storagedomain.attach.failed")
    assert failed.severity == Severity.ERROR and failed.message.startswith("Attach storage domain nfs-data failed: ")
    assert StorageDomain.objects.get(pk=domain.pk).capacity_bytes is None


def test_an_nfs_domain_attaches_with_the_exports_figures(admin, nfs_server, nfs_domain):
    problem = kernel_nfs_mount_problem(nfs_server)
    domain = nfs_domain(nfs_server.pseudo)

    job = attach(domain, admin)

    if problem:
        # Only the kernel's missing NFS client may stop it, and the job must say so.
        assert job.status == JobStatus.FAILED and problem.split(": ", 1)[1] in job.error, job.error
        assert domain.status == StorageDomainStatus.INACTIVE
        pytest.xfail(f"this kernel cannot mount NFS ({problem}); the attach job failed with: {job.error}")
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert domain.status == StorageDomainStatus.ACTIVE and domain.capacity_bytes > 0
