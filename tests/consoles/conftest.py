"""Fixtures the console tests share: the VM pages' simulated world and a VM
running on the real libvirtd (tests/consoles/support.py)."""

from tests.consoles.support import real_vm
from tests.vms.test_views import cluster, fresh_simulated_hosts, host, network

__all__ = ["cluster", "fresh_simulated_hosts", "host", "network", "real_vm"]
