"""NFS storage pools (libvirt netfs) on the real libvirtd, against a real NFS
server: NFS-Ganesha on a loopback address (tests/inventory/nfs_server.py says
why Ganesha and not the kernel's nfsd).

Whether the pool can mount the export depends on the host's kernel having an
NFS client. The mount is tried for real first: where the kernel has none (the
machines these tests were written on: CONFIG_NETWORK_FILESYSTEMS is unset and
``mount -t nfs`` says "mount.nfs: No such device"), the test of a working
mount is an expected failure that says so, never a pass; the failure path is
tested everywhere."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from hypervisor import HypervisorError
from hypervisor.storage import PoolSpec, ensure_dir_pool, list_pools, pool_info, remove_pool
from hypervisor.volumes import list_volumes
from tests.inventory.nfs_server import GaneshaServer, kernel_nfs_mount_problem

pytestmark = pytest.mark.real

TEST_PREFIX = "pt-test-nfs-"


@pytest.fixture(scope="module")
def nfs_server(tmp_path_factory) -> Iterator[GaneshaServer]:
    base = tmp_path_factory.mktemp("nfs")
    export = base / "export"
    export.mkdir()
    (export / "marker.txt").write_text("served by ganesha\n")
    server = GaneshaServer(export_dir=export, state_dir=base / "state").start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def mount_problem(nfs_server) -> str:
    return kernel_nfs_mount_problem(nfs_server)


@pytest.fixture
def pool_name(libvirtd: str) -> Iterator[str]:
    for leftover in list_pools(libvirtd):
        if leftover.startswith(TEST_PREFIX):
            remove_pool(libvirtd, leftover)  # stops (unmounts) and forgets; files stay
    name = f"{TEST_PREFIX}{uuid.uuid4().hex[:8]}"
    yield name
    remove_pool(libvirtd, name)


def test_the_nfs_server_serves_its_export(nfs_server):
    assert nfs_server.read_with_libnfs("marker.txt") == "served by ganesha\n"


def test_a_netfs_pool_mounts_the_export_on_the_real_host(libvirtd, nfs_server, mount_problem, pool_name, tmp_path):
    spec = PoolSpec(name=pool_name, path=str(tmp_path / "mnt"), type="netfs",
                    source_host=nfs_server.address, source_dir=nfs_server.pseudo)
    if mount_problem:
        # Only the kernel's missing NFS client may stop it, and the error must say so.
        with pytest.raises(HypervisorError) as caught:
            ensure_dir_pool(libvirtd, spec)
        assert mount_problem.split(": ", 1)[1] in caught.value.message
        pytest.xfail(f"this kernel cannot mount NFS ({mount_problem}); libvirt says: {caught.value.message}")

    info = ensure_dir_pool(libvirtd, spec)

    assert info.state == "running"
    assert "marker.txt" in [volume.name for volume in list_volumes(libvirtd, pool_name)]
    assert (Path(spec.path) / "marker.txt").read_text() == "served by ganesha\n"
    assert pool_info(libvirtd, pool_name).capacity_bytes > 0
    remove_pool(libvirtd, pool_name)
    assert not (Path(spec.path) / "marker.txt").exists()  # unmounted, the file is on the server still
    assert (nfs_server.export_dir / "marker.txt").exists()


def test_a_mount_that_fails_says_which_export_where_and_why(libvirtd, nfs_server, pool_name, tmp_path):
    """An export the server does not have: the mount fails on any kernel."""
    spec = PoolSpec(name=pool_name, path=str(tmp_path / "mnt"), type="netfs",
                    source_host=nfs_server.address, source_dir="/no-such-export")

    with pytest.raises(HypervisorError) as caught:
        ensure_dir_pool(libvirtd, spec)

    message = caught.value.message
    assert message.startswith(
        f"The NFS export {nfs_server.address}:/no-such-export could not be mounted at {spec.path} on {libvirtd}: "
    )
    assert "mount" in message and "exit status 32" in message
    # Defined, not running: a later attach retries the mount; detaching removes it.
    assert pool_info(libvirtd, pool_name).state == "inactive"
