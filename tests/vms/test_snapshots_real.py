"""Snapshots on the real libvirtd + QEMU, through the API and the real worker.

The tiny guest's root file system is its initramfs, so a file written there
lives only in the guest's RAM: a marker written over the serial console
(the guest runs a root shell on ttyS0) survives a restore only if the
snapshot really saved and loaded the memory. The guest's heartbeat counter
(printed every 2 s) must jump back too."""

from __future__ import annotations

import os
import re
import select
import subprocess
import threading
import time
import tty

import pytest

from core.models import Job
from tests.vms.test_lifecycle_real import create_vm, serial_log, succeeded, virsh, world  # noqa: F401
from tests.plugins.real import wait_for_text
from vms.choices import VmStatus
from vms.models import Vm, VmSnapshot

pytestmark = [pytest.mark.real, pytest.mark.jobs, pytest.mark.django_db(transaction=True),
              pytest.mark.timeout(300)]

HEARTBEAT = re.compile(r"GUEST HEARTBEAT (\d+)")


class SerialConsole:
    """The guest's serial console through the host's pty (what ``virsh console``
    opens). Read all the time by a thread: output nobody reads would stall the
    guest's serial port."""

    def __init__(self, path: str):
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
        tty.setraw(self.fd)
        self.output = ""
        self.lock = threading.Lock()
        self.running = True
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        while self.running:
            ready, _, _ = select.select([self.fd], [], [], 0.2)
            if ready:
                try:
                    data = os.read(self.fd, 4096)
                except OSError:
                    return
                with self.lock:
                    self.output += data.decode(errors="replace")

    def send(self, line: str) -> None:
        os.write(self.fd, line.encode() + b"\r")

    def wait_for(self, pattern: str, *, since: int = 0, timeout: float = 30) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                match = re.compile(pattern).search(self.output, since)
            if match:
                return match
            time.sleep(0.1)
        raise AssertionError(f"{pattern!r} not seen on the serial console; its tail:\n{self.output[-1500:]}")

    def ask(self, tag: str, command: str) -> str:
        """Run ``command`` in the guest's shell; what it printed after ``tag=``."""
        since = len(self.output)
        self.send(f"echo {tag}=$({command})")
        return self.wait_for(rf"{tag}=(\S*)\r?\n", since=since).group(1)

    def first_heartbeat(self, *, since: int) -> int:
        return int(self.wait_for(HEARTBEAT.pattern, since=since, timeout=10).group(1))

    def last_heartbeat(self) -> int:
        self.wait_for(HEARTBEAT.pattern, timeout=10)
        with self.lock:
            return max(int(n) for n in HEARTBEAT.findall(self.output))

    def close(self) -> None:
        self.running = False
        self.thread.join(2)
        os.close(self.fd)


def open_console(world, vm) -> SerialConsole:
    return SerialConsole(virsh(world["uri"], "ttyconsole", str(vm.uuid)).strip())


def seconds(job: Job) -> float:
    job.refresh_from_db()
    return (job.ended_at - job.started_at).total_seconds()


def test_memory_snapshot_restores_what_lived_only_in_ram_and_a_down_one_keeps_disks(api, world):
    vm = create_vm(api, world, f"snap-{os.getpid()}")
    wait_for_text(serial_log(vm), "GUEST HEARTBEAT", timeout=90)
    console = open_console(world, vm)
    try:
        assert console.ask("Q1", "echo before-snapshot > /marker; cat /marker") == "before-snapshot"

        took = time.monotonic()
        response = api.post(f"/api/v1/vms/{vm.pk}/snapshots/", {"description": "marker"}, format="json")
        create_job = succeeded(response)
        took = time.monotonic() - took
        at_snapshot = console.last_heartbeat()
        snapshot = VmSnapshot.objects.get()
        assert snapshot.has_memory and snapshot.size_bytes and snapshot.size_bytes > 0
        assert Vm.objects.get(pk=vm.pk).status == VmStatus.UP  # it kept running
        info = virsh(world["uri"], "snapshot-info", str(vm.uuid), snapshot.name)
        assert re.search(r"State:\s+running", info) and re.search(r"Location:\s+internal", info), info

        assert console.ask("Q2", "echo after-snapshot > /marker; cat /marker") == "after-snapshot"
        console.wait_for(rf"GUEST HEARTBEAT {at_snapshot + 3}\b", timeout=15)  # time moves on
        before_restore = console.last_heartbeat()

        restored = time.monotonic()
        restore_job = succeeded(api.post(f"/api/v1/vms/{vm.pk}/snapshots/{snapshot.pk}/restore/"))
        restored = time.monotonic() - restored
        assert Vm.objects.get(pk=vm.pk).status == VmStatus.UP
        assert virsh(world["uri"], "domstate", str(vm.uuid)).strip() == "running"
        # libvirt 9.0 reverts a running domain in a new QEMU process: a new pty.
        console.close()
        console = open_console(world, vm)
        assert console.ask("Q3", "cat /marker") == "before-snapshot"
        assert console.first_heartbeat(since=0) <= at_snapshot + 2 < before_restore  # the counter went back
        print(f"\nsnapshot with memory: job {seconds(create_job):.2f} s, API to done {took:.2f} s, "
              f"{snapshot.size_bytes / 2**20:.1f} MiB; restore: job {seconds(restore_job):.2f} s, "
              f"API to done {restored:.2f} s")

        succeeded(api.delete(f"/api/v1/vms/{vm.pk}/snapshots/{snapshot.pk}/"))
        assert virsh(world["uri"], "snapshot-list", "--name", str(vm.uuid)).strip() == ""
        assert not VmSnapshot.objects.exists()
    finally:
        console.close()

    # Down: libvirt 9.0 snapshots a shut-off qcow2 domain inside its disk (qemu-img snapshot -c), no memory.
    succeeded(api.post(f"/api/v1/vms/{vm.pk}/poweroff/"))
    succeeded(api.post(f"/api/v1/vms/{vm.pk}/snapshots/", {}, format="json"))
    snapshot = VmSnapshot.objects.get()
    info = virsh(world["uri"], "snapshot-info", str(vm.uuid), snapshot.name)
    assert re.search(r"State:\s+shutoff", info) and re.search(r"Location:\s+internal", info), info
    assert not snapshot.has_memory
    tags = subprocess.run(["qemu-img", "snapshot", "-l", vm.disks.get().path], capture_output=True, text=True,
                          check=True).stdout
    assert snapshot.name in tags
    succeeded(api.post(f"/api/v1/vms/{vm.pk}/snapshots/{snapshot.pk}/restore/"))
    assert Vm.objects.get(pk=vm.pk).status == VmStatus.DOWN
    assert virsh(world["uri"], "domstate", str(vm.uuid)).strip() == "shut off"
