"""Helpers shared by the hypervisor tests."""

from __future__ import annotations

from pathlib import Path

HOSTS_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "hosts"


def node_uri(path: Path) -> str:
    """The test driver URI of a simulated host described by a node XML file."""
    return f"test://{path}"
