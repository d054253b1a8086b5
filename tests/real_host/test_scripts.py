"""The real lane's own scripts: ensure-libvirtd, ensure-redis, build-guest-image."""

from __future__ import annotations

import json
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.plugins.real import GUEST_IMAGE_DIR, LIBVIRT_URI, SCRIPTS, run_script

pytest_plugins = ["tests.plugins.real"]

pytestmark = pytest.mark.real

QEMU_CONF = Path("/etc/libvirt/qemu.conf")
QEMU_CONF_MARKER = "# --- added by ensure-libvirtd"


def timed(name: str, *args: str) -> float:
    started = time.monotonic()
    run_script(name, *args)
    return time.monotonic() - started


def libvirtd_answers() -> bool:
    proc = subprocess.run(
        ["virsh", "-c", LIBVIRT_URI, "version"], capture_output=True, text=True, timeout=10
    )
    return proc.returncode == 0 and "Running hypervisor: QEMU" in proc.stdout


def systemd_runs() -> bool:
    return Path("/proc/1/comm").read_text().strip() == "systemd"


def test_it_starts_libvirtd_when_stopped() -> None:
    # Other sessions may use a running daemon, so this test never stops one: when the
    # daemon already runs it checks idempotence only.
    was_running = libvirtd_answers()
    first = timed("ensure-libvirtd")
    assert libvirtd_answers()
    second = timed("ensure-libvirtd")
    print(f"ensure-libvirtd: {first:.2f}s ({'was running' if was_running else 'started it'}), again {second:.2f}s")
    assert second < 2, f"ensure-libvirtd took {second:.2f}s with the daemon up"
    if was_running:
        assert first < 2, f"ensure-libvirtd took {first:.2f}s with the daemon up"
    if not systemd_runs():
        # We (or an earlier run) started the daemon: qemu.conf got our block once.
        assert QEMU_CONF.read_text().count(QEMU_CONF_MARKER) <= 1


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_it_starts_redis_when_stopped() -> None:
    # A spare port: a Redis of our own that this test may stop again.
    port = str(free_port())
    try:
        first = timed("ensure-redis", port)
        ping = subprocess.run(
            ["redis-cli", "-p", port, "ping"], capture_output=True, text=True, timeout=5
        )
        assert ping.stdout.strip() == "PONG"
        second = timed("ensure-redis", port)
        assert second < 1, f"ensure-redis took {second:.2f}s with Redis up"
        assert first < 10
    finally:
        subprocess.run(["redis-cli", "-p", port, "shutdown", "nosave"], capture_output=True, timeout=5)


def test_it_hands_out_the_tests_redis_database(redis_url: str) -> None:
    assert redis_url == "redis://127.0.0.1:6379/15"
    ping = subprocess.run(
        ["redis-cli", "-u", redis_url, "ping"], capture_output=True, text=True, timeout=5
    )
    assert ping.stdout.strip() == "PONG"


def test_it_reuses_the_cached_guest_image(guest_image: Path) -> None:
    key_file = GUEST_IMAGE_DIR / "guest.key"
    key, mtime = key_file.read_text(), guest_image.stat().st_mtime_ns

    started = time.monotonic()
    out = run_script("build-guest-image", str(GUEST_IMAGE_DIR))
    elapsed = time.monotonic() - started

    assert out.strip().splitlines()[-1] == str(guest_image)
    assert elapsed < 2, f"a cache hit took {elapsed:.2f}s"
    assert key_file.read_text() == key
    assert guest_image.stat().st_mtime_ns == mtime
    # The key names what the image was built from, so package upgrades rebuild it.
    for part in ("kernel=linux-image-", "busybox-static=", "syslinux=", "script="):
        assert part in key


def test_it_builds_a_bootable_partitioned_disk(guest_image: Path, tmp_path: Path) -> None:
    raw = tmp_path / "disk.raw"
    subprocess.run(["qemu-img", "convert", "-O", "raw", str(guest_image), str(raw)], check=True)
    head = raw.read_bytes()[:512]
    mbr_code = (Path("/usr/lib/syslinux/mbr/mbr.bin").read_bytes())[:440]
    assert head[:440] == mbr_code.ljust(440, b"\0")
    assert head[510:512] == b"\x55\xaa"

    table = json.loads(
        subprocess.run(["sfdisk", "--json", str(raw)], capture_output=True, text=True, check=True).stdout
    )["partitiontable"]
    (part,) = table["partitions"]
    assert part["start"] == 2048
    assert part["type"] == "6"
    assert part.get("bootable") is True
