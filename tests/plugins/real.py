"""The real lane's plumbing: a running libvirtd, the tiny guest image, Redis.

Load it with ``pytest_plugins = ["tests.plugins.real"]``. The fixtures bring up what
they need through the project's own scripts (the same ones the README runs), so a
fresh machine or CI needs nothing started beforehand. A script that fails FAILS the
test with its output: a real lane that silently skips proves nothing.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = REPO / "scripts"
LIBVIRT_URI = "qemu:///system"
GUEST_IMAGE_DIR = REPO / "var" / "guest-image"
REDIS_PORT = 6379
REDIS_URL = f"redis://127.0.0.1:{REDIS_PORT}/15"  # db 15: the tests' own, flushable


def run_script(name: str, *args: str, timeout: float = 300) -> str:
    """Run scripts/<name>; return its stdout, or fail the test with all it said."""
    cmd = [str(SCRIPTS / name), *args]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        err = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else exc.stderr
        pytest.fail(f"{' '.join(cmd)} timed out after {timeout}s\n{err or ''}", pytrace=False)
    if proc.returncode != 0:
        pytest.fail(
            f"{' '.join(cmd)} exited with {proc.returncode}\n"
            f"--- stdout:\n{proc.stdout}\n--- stderr:\n{proc.stderr}",
            pytrace=False,
        )
    return proc.stdout


def wait_for_text(path: Path, text: str, timeout: float) -> str:
    """Poll `path` (a serial log, say) until it contains `text`; return the content.

    The file is read as text, so the serial port's "\r\n" comes back as "\n". On
    timeout raise AssertionError with the log's tail, which is what one needs to see
    why a guest did not come up.
    """
    deadline = time.monotonic() + timeout
    content = ""
    while True:
        try:
            content = path.read_text(errors="replace")
        except FileNotFoundError:
            content = ""
        if text in content:
            return content
        if time.monotonic() >= deadline:
            tail = "\n".join(content.splitlines()[-30:])
            raise AssertionError(
                f"{text!r} did not appear in {path} within {timeout}s; last lines:\n{tail}"
            )
        time.sleep(0.2)


@pytest.fixture(scope="session")
def libvirtd() -> str:
    """URI of a system libvirtd that answers (started if it was not)."""
    run_script("ensure-libvirtd", timeout=120)
    return LIBVIRT_URI


@pytest.fixture(scope="session")
def guest_image() -> Path:
    """The tiny guest's qcow2, built once and cached under var/guest-image.

    Shared by every test: never boot it directly, use `guest_disk`.
    """
    out = run_script("build-guest-image", str(GUEST_IMAGE_DIR), timeout=600)
    return Path(out.strip().splitlines()[-1])


@pytest.fixture
def guest_disk(tmp_path: Path, guest_image: Path) -> Path:
    """A fresh writable disk for one test: a qcow2 overlay on the shared image (~8 ms)."""
    disk = tmp_path / "disk.qcow2"
    subprocess.run(
        ["qemu-img", "create", "-q", "-f", "qcow2", "-b", str(guest_image), "-F", "qcow2", str(disk)],
        check=True,
    )
    return disk


@pytest.fixture(scope="session")
def redis_url() -> str:
    """A Redis URL (db 15) on a local Redis that answers (started if it was not)."""
    run_script("ensure-redis", str(REDIS_PORT), timeout=60)
    return REDIS_URL
