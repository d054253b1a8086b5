"""The multi-host lane's hosts: namespaced libvirtd "hypervisor hosts" that answer
over TCP, have their own identity, run guests, stop and start, and leave nothing
behind. Later lanes (migration, evacuation, fencing) build on these guarantees.

Uses `virsh` and the `hypervisor` package (the only code that imports libvirt).
"""

from __future__ import annotations

import os
import re
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

import hypervisor
from tests.plugins.multihost import REPO, NamespacedHost, guest_domain_xml
from tests.plugins.real import wait_for_text

pytestmark = pytest.mark.multihost

Testhost = Callable[[str], NamespacedHost]
BOOT_TIMEOUT = 90


def virsh(uri: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(["virsh", "-c", uri, *args], capture_output=True, text=True, timeout=60)
    if check and proc.returncode != 0:
        raise AssertionError(f"virsh -c {uri} {' '.join(args)} failed: {proc.stderr.strip()}")
    return proc


def timed_host(testhost: Testhost, name: str, record_property) -> NamespacedHost:
    started = time.monotonic()
    host = testhost(name)
    elapsed = time.monotonic() - started
    record_property(f"{name}_up_seconds", round(elapsed, 2))
    print(f"test host {name} up (or already up) in {elapsed:.2f}s")
    return host


def host_uuid(uri: str) -> str:
    caps = virsh(uri, "capabilities").stdout
    found = re.search(r"<host>\s*<uuid>([0-9a-f-]+)</uuid>", caps)
    assert found, caps[:500]
    return found.group(1)


def alive(pid: int) -> bool:
    """Running (a zombie waiting to be reaped by PID 1 counts as gone)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def netns_id(name: str) -> str:
    return f"net:[{os.stat(f'/run/netns/pt-{name}').st_ino}]"


def pids_in_netns(ns_id: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.readlink(entry / "ns" / "net") == ns_id and alive(int(entry.name)):
                    pids.append(int(entry.name))
            except OSError:
                pass  # gone meanwhile, or a kernel thread
    return pids


def pids_mounting(path_part: str) -> list[int]:
    """Processes whose mount namespace has a mount from a path containing path_part.

    The bind mounts' sources show in mountinfo's 4th field, not in /proc/mounts.
    """
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if path_part in (entry / "mountinfo").read_text():
                    pids.append(int(entry.name))
            except OSError:
                pass
    return pids


def system_libvirtd_pid() -> int | None:
    try:
        pid = int(Path("/run/libvirtd.pid").read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    return pid if alive(pid) and Path(f"/proc/{pid}/comm").read_text().strip() == "libvirtd" else None


def start_guest(host: NamespacedHost, disk: Path, workdir: Path, hostname: str) -> tuple[str, Path]:
    name = f"mh-{hostname}-{uuid.uuid4().hex[:8]}"
    serial_log = workdir / f"{name}.serial.log"
    xml_file = workdir / f"{name}.xml"
    xml_file.write_text(guest_domain_xml(name, hostname, disk, serial_log))
    virsh(host.uri, "define", str(xml_file))
    virsh(host.uri, "start", name)
    return name, serial_log


def remove_guest(host: NamespacedHost, name: str) -> None:
    virsh(host.uri, "destroy", name, check=False)
    virsh(host.uri, "undefine", name, check=False)


def test_it_reads_the_facts_of_a_namespaced_host(testhost: Testhost, record_property) -> None:
    alpha = timed_host(testhost, "alpha", record_property)

    info = hypervisor.read_host_info(alpha.uri)

    assert info.hostname == "alpha"
    assert info.hypervisor_type == "QEMU"
    assert info.cpu_total >= 1 and info.memory_mb > 0


def test_it_gives_each_host_its_own_identity(testhost: Testhost, record_property) -> None:
    alpha = timed_host(testhost, "alpha", record_property)
    beta = timed_host(testhost, "beta", record_property)

    assert alpha.uri != beta.uri
    assert virsh(alpha.uri, "hostname").stdout.strip() == "alpha"
    assert virsh(beta.uri, "hostname").stdout.strip() == "beta"
    # libvirt refuses to migrate between hosts with one UUID ("migration to the same host").
    assert host_uuid(alpha.uri) != host_uuid(beta.uri)


def test_it_lets_hosts_reach_each_other_for_migration(testhost: Testhost) -> None:
    alpha, beta = testhost("alpha"), testhost("beta")

    # From inside alpha, as its libvirtd would for a peer-to-peer migration.
    proc = subprocess.run(
        ["ip", "netns", "exec", f"pt-{alpha.name}", "virsh", "-c", beta.uri, "hostname"],
        capture_output=True, text=True, timeout=30,
    )

    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "beta"


def test_it_reports_the_host_unreachable_while_its_daemon_is_down_and_reachable_again_after(
    testhost: Testhost, record_property
) -> None:
    alpha = testhost("alpha")
    assert hypervisor.check_connection(alpha.uri) is True  # a cached, live connection

    started = time.monotonic()
    alpha.stop_daemon()
    stop_seconds = time.monotonic() - started
    try:
        timeout = 3.0
        started = time.monotonic()
        with pytest.raises(hypervisor.HostUnreachable):
            hypervisor.check_connection(alpha.uri, timeout=timeout)
        unreachable_seconds = time.monotonic() - started
        assert unreachable_seconds < timeout + 1
    finally:
        started = time.monotonic()
        alpha.start_daemon()
        start_seconds = time.monotonic() - started

    assert hypervisor.check_connection(alpha.uri) is True
    assert hypervisor.read_host_info(alpha.uri).hostname == "alpha"
    for key, value in [("stop", stop_seconds), ("unreachable", unreachable_seconds), ("start", start_seconds)]:
        record_property(f"daemon_{key}_seconds", round(value, 2))
    print(f"daemon stop {stop_seconds:.2f}s, HostUnreachable after {unreachable_seconds:.2f}s, "
          f"start (answering) {start_seconds:.2f}s")


def test_it_runs_a_guest_inside_a_namespaced_host(
    testhost: Testhost, shared_guest_disk: Path, record_property
) -> None:
    alpha = testhost("alpha")
    started = time.monotonic()
    name, serial_log = start_guest(alpha, shared_guest_disk, shared_guest_disk.parent, "guest-on-alpha")
    try:
        wait_for_text(serial_log, "GUEST READY guest-on-alpha", BOOT_TIMEOUT)
        boot_seconds = time.monotonic() - started
        record_property("guest_boot_seconds", round(boot_seconds, 2))
        print(f"guest on alpha: define+start+boot to GUEST READY in {boot_seconds:.2f}s")

        # Its QEMU runs inside alpha's network namespace, and only alpha knows it.
        pid = int((REPO / "var/testhosts/alpha/run/qemu" / f"{name}.pid").read_text())
        assert pid in pids_in_netns(netns_id("alpha"))
        assert name not in virsh(testhost("beta").uri, "list", "--all", "--name").stdout.split()
    finally:
        remove_guest(alpha, name)
    assert name not in virsh(alpha.uri, "list", "--all", "--name").stdout.split()


def test_it_leaves_nothing_behind_when_a_host_goes_down(
    testhost: Testhost, shared_guest_disk: Path, record_property
) -> None:
    system_daemon = system_libvirtd_pid()
    host = testhost("cleanup")
    start_guest(host, shared_guest_disk, shared_guest_disk.parent, "doomed")
    ns_id = netns_id("cleanup")
    daemon = int((REPO / "var/testhosts/cleanup/libvirtd.pid").read_text())
    processes = pids_in_netns(ns_id)
    assert daemon in processes and len(processes) >= 2, processes  # libvirtd and QEMU
    assert pids_mounting("/var/testhosts/cleanup/"), "the private mounts should exist while up"

    started = time.monotonic()
    host.down()
    record_property("down_seconds", round(time.monotonic() - started, 2))

    assert "pt-cleanup" not in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert subprocess.run(["ip", "link", "show", "dev", "pt-cleanup"], capture_output=True).returncode != 0
    assert [pid for pid in processes if alive(pid)] == []
    assert pids_in_netns(ns_id) == []
    assert pids_mounting("/var/testhosts/cleanup/") == []
    assert "testhosts" not in Path("/proc/mounts").read_text()
    if system_daemon is not None:
        assert system_libvirtd_pid() == system_daemon, "the machine's own libvirtd must keep running"
    host.down()  # idempotent
