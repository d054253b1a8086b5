"""Fixtures of the inventory tests that more than one module uses."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import hypervisor
from inventory.choices import HostStatus, StorageDomainType
from inventory.models import StorageDomain
from inventory.services.storage import storage_pool_name
from tests.inventory.factories import HostFactory


@pytest.fixture
def temp_dir(settings, tmp_path) -> Path:
    """The portal's own place for uploads in progress (FILE_UPLOAD_TEMP_DIR)."""
    path = tmp_path / "portal-uploads"
    path.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(path)
    return path


@pytest.fixture
def spm_domain(libvirtd, tmp_path, temp_dir):
    """A data domain in a directory of this machine, its data center's SPM the
    machine's libvirtd. Its id is its own: the pools are named after it, and a
    portal running here has pools of its own on the same libvirtd."""
    hypervisor.close_all()
    host = HostFactory(name="local", uri=libvirtd, status=HostStatus.UP, spm_priority=5)
    path = tmp_path / "data"
    path.mkdir()
    path.chmod(0o755)
    domain = StorageDomain.objects.create(
        pk=810000 + os.getpid() % 100000, name=f"upload-{os.getpid()}", data_center=host.cluster.data_center,
        path=str(path), domain_type=StorageDomainType.DATA)
    yield domain
    hypervisor.remove_pool(libvirtd, f"{storage_pool_name(domain)}-images")
