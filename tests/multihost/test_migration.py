"""Live migration between two namespaced hosts (hypervisor.migrate_domain):
the guest keeps running (its serial heartbeat keeps counting), the domain ends
defined on the destination only, and a migration that is cancelled or cannot
reach its destination leaves the guest running on the source."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

import hypervisor
from hypervisor.migration import MigrationAborted, MigrationOptions, migrate_domain
from tests.multihost.test_testhosts import BOOT_TIMEOUT, Testhost, remove_guest, start_guest, virsh
from tests.plugins.real import wait_for_text

pytestmark = pytest.mark.multihost

# The shared directory is a plain directory on both hosts (see ENVIRONMENT.md).
OPTIONS = MigrationOptions(unsafe_shared_directory=True)


def heartbeat(serial_log: Path) -> int:
    beats = re.findall(r"GUEST HEARTBEAT (\d+)", serial_log.read_text(errors="replace"))
    return int(beats[-1]) if beats else 0


def uuid_of(host, name: str) -> str:
    return virsh(host.uri, "domuuid", name).stdout.strip()


def names_on(host) -> list[str]:
    return virsh(host.uri, "list", "--all", "--name").stdout.split()


@pytest.fixture
def guest_on_alpha(testhost: Testhost, shared_guest_disk: Path):
    alpha, beta = testhost("alpha"), testhost("beta")
    name, serial_log = start_guest(alpha, shared_guest_disk, shared_guest_disk.parent, "wanderer")
    wait_for_text(serial_log, "GUEST HEARTBEAT 1", BOOT_TIMEOUT)
    yield alpha, beta, name, serial_log
    remove_guest(alpha, name)
    remove_guest(beta, name)


def test_a_guest_moves_to_the_other_host_and_back_without_rebooting(guest_on_alpha):
    alpha, beta, name, serial_log = guest_on_alpha
    uuid = uuid_of(alpha, name)
    seen: list = []

    there = migrate_domain(alpha.uri, uuid, dest_uri=beta.uri, options=OPTIONS, progress=seen.append)
    beat = heartbeat(serial_log)
    wait_for_text(serial_log, f"GUEST HEARTBEAT {beat + 1}", 30)  # still counting: no reboot
    back = migrate_domain(beta.uri, uuid, dest_uri=alpha.uri, options=OPTIONS)
    wait_for_text(serial_log, f"GUEST HEARTBEAT {heartbeat(serial_log) + 1}", 30)

    print(f"\nalpha->beta {there.total_ms} ms (downtime {there.downtime_ms} ms), "
          f"beta->alpha {back.total_ms} ms (downtime {back.downtime_ms} ms)")
    assert serial_log.read_text(errors="replace").count("GUEST READY") == 1
    assert hypervisor.domain_state(alpha.uri, uuid) == "running"
    assert name in names_on(alpha) and name not in names_on(beta)
    assert there.downtime_ms is not None and 0 <= there.downtime_ms < 5000
    assert there.data_bytes > 0
    assert seen and seen[-1].data_total > 0


def test_a_cancelled_migration_leaves_the_guest_running_on_the_source(guest_on_alpha):
    alpha, beta, name, serial_log = guest_on_alpha
    uuid = uuid_of(alpha, name)
    # 1 MiB/s: the copy takes minutes, so it is surely still running when cancelled.
    slow = MigrationOptions(unsafe_shared_directory=True, bandwidth_mib_s=1)
    asked = time.monotonic() + 1.5

    with pytest.raises(MigrationAborted, match="cancelled"):
        migrate_domain(alpha.uri, uuid, dest_uri=beta.uri, options=slow, cancelled=lambda: time.monotonic() > asked)

    assert hypervisor.domain_state(alpha.uri, uuid) == "running"
    assert name not in names_on(beta)
    wait_for_text(serial_log, f"GUEST HEARTBEAT {heartbeat(serial_log) + 1}", 30)


def test_a_destination_that_does_not_answer_fails_with_libvirts_reason_and_the_guest_stays(guest_on_alpha):
    alpha, beta, name, serial_log = guest_on_alpha
    uuid = uuid_of(alpha, name)
    beta.stop_daemon()
    try:
        with pytest.raises(hypervisor.HypervisorError) as failure:
            migrate_domain(alpha.uri, uuid, dest_uri=beta.uri, options=OPTIONS)
    finally:
        beta.start_daemon()
    print(f"\nlibvirt said: {failure.value.message}")
    assert failure.value.message
    assert hypervisor.domain_state(alpha.uri, uuid) == "running"
    wait_for_text(serial_log, f"GUEST HEARTBEAT {heartbeat(serial_log) + 1}", 30)
