"""Storage pools on the real libvirtd: real directories, real figures."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator

import pytest

from hypervisor.storage import PoolSpec, ensure_dir_pool, list_pools, list_volumes, pool_info, remove_pool

pytestmark = pytest.mark.real

# Every pool these tests make is named so; leftovers of an interrupted run are
# removed first (never their directories).
TEST_PREFIX = "pt-test-storage-"
# Other processes write to the same file system while we compare.
AVAILABLE_TOLERANCE = 0.01


def virsh_pools(uri: str) -> list[str]:
    out = subprocess.run(
        ["virsh", "-c", uri, "pool-list", "--all", "--name"], capture_output=True, text=True, check=True
    ).stdout
    return [line.strip() for line in out.splitlines() if line.strip()]


@pytest.fixture
def pool_name(libvirtd: str) -> Iterator[str]:
    for leftover in list_pools(libvirtd):
        if leftover.startswith(TEST_PREFIX):
            remove_pool(libvirtd, leftover)
    name = f"{TEST_PREFIX}{uuid.uuid4().hex[:8]}"
    yield name
    remove_pool(libvirtd, name)


def df_bytes(directory) -> tuple[int, int, int]:
    """(size, used, avail) of the directory's file system, as df shows them."""
    out = subprocess.run(
        ["df", "-B1", "--output=size,used,avail", str(directory)], capture_output=True, text=True, check=True
    ).stdout
    size, used, avail = (int(n) for n in out.splitlines()[-1].split())
    return size, used, avail


def assert_figures_match(info, directory) -> None:
    """libvirt's figures for a dir pool are statvfs's: capacity = f_blocks,
    allocation = f_blocks - f_bfree (df's Used), available = f_bfree. So
    "available" includes the blocks the file system reserves for root: it is
    df's Size - Used, which is more than df's Avail (f_bavail) on a file system
    with reserved blocks. QEMU runs as root here, and may use them."""
    fs = os.statvfs(directory)
    size, used, _avail = df_bytes(directory)
    tolerance = AVAILABLE_TOLERANCE * info.capacity_bytes
    assert info.capacity_bytes == fs.f_blocks * fs.f_frsize == size
    assert abs(info.available_bytes - fs.f_bfree * fs.f_frsize) <= tolerance
    assert abs(info.available_bytes - (size - used)) <= tolerance
    assert abs(info.allocation_bytes - used) <= tolerance


def test_it_makes_a_pool_whose_figures_are_those_of_its_directory(libvirtd, pool_name, tmp_path):
    directory = tmp_path / "data"
    directory.mkdir()

    info = ensure_dir_pool(libvirtd, PoolSpec(name=pool_name, path=str(directory)))

    assert info.state == "running" and info.path == str(directory)
    assert_figures_match(info, directory)
    assert_figures_match(pool_info(libvirtd, pool_name), directory)
    assert pool_name in virsh_pools(libvirtd)


def test_it_is_idempotent_and_autostarts_the_pool(libvirtd, pool_name, tmp_path):
    spec = PoolSpec(name=pool_name, path=str(tmp_path))
    first = ensure_dir_pool(libvirtd, spec)
    again = ensure_dir_pool(libvirtd, spec)

    assert again.uuid == first.uuid and again.state == "running"
    info = subprocess.run(
        ["virsh", "-c", libvirtd, "pool-info", pool_name], capture_output=True, text=True, check=True
    ).stdout
    assert "Persistent:     yes" in info and "Autostart:      yes" in info


def test_it_creates_the_directory_when_it_is_missing(libvirtd, pool_name, tmp_path):
    directory = tmp_path / "new" / "storage"

    assert ensure_dir_pool(libvirtd, PoolSpec(name=pool_name, path=str(directory))).state == "running"
    assert directory.is_dir()


def test_it_sees_the_files_in_the_directory_as_volumes(libvirtd, pool_name, tmp_path):
    (tmp_path / "installer.iso").write_bytes(b"\0" * 65536)
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(tmp_path / "disk.qcow2"), "1G"], check=True)
    ensure_dir_pool(libvirtd, PoolSpec(name=pool_name, path=str(tmp_path)))

    volumes = {v.name: v for v in list_volumes(libvirtd, pool_name)}

    assert set(volumes) == {"installer.iso", "disk.qcow2"}
    assert volumes["disk.qcow2"].format == "qcow2" and volumes["disk.qcow2"].capacity_bytes == 1024**3
    assert volumes["installer.iso"].path == str(tmp_path / "installer.iso")
    assert volumes["installer.iso"].capacity_bytes == 65536


def test_it_removes_the_pool_but_keeps_the_directory_and_its_files(libvirtd, pool_name, tmp_path):
    keep = tmp_path / "precious.qcow2"
    keep.write_bytes(b"user data")
    ensure_dir_pool(libvirtd, PoolSpec(name=pool_name, path=str(tmp_path)))

    assert remove_pool(libvirtd, pool_name) is True

    assert pool_name not in virsh_pools(libvirtd)
    assert tmp_path.is_dir() and keep.read_bytes() == b"user data"
