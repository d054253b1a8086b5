"""Shared pieces of the hypervisor tests.

Fast lane: libvirt's in-process test driver with the node files in
tests/fixtures/hosts (each file URI is its own simulated host). Real lane: the
``libvirtd`` and ``guest_disk`` fixtures of tests/plugins/real.py.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from hypervisor import close_all
from tests.hypervisor.support import HOSTS_DIR, node_uri


@pytest.fixture(autouse=True)
def fresh_connections() -> Iterator[None]:
    """No test sees another's connections (or the simulated hosts behind them)."""
    yield
    close_all()


@pytest.fixture
def small_host(tmp_path: Path) -> str:
    """URI of a private copy of small.xml: a simulated host only this test touches."""
    node_file = tmp_path / "small.xml"
    shutil.copy(HOSTS_DIR / "small.xml", node_file)
    return node_uri(node_file)
