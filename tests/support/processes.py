"""Real processes for the test lanes: a Celery worker and daphne, both on the
test database (pytest-django's), started and stopped by fixtures."""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.db import connection

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def test_database_url() -> str:
    """The URL of the database pytest-django created, for child processes."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def child_environment(**extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": test_database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "SECRET_KEY": settings.SECRET_KEY,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        **extra,
    }


PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Runs in the child before exec: the kernel sends it SIGTERM when the test
    process dies, so a crashed run never leaves a worker that takes the next
    run's jobs (seen once) or a server holding a port."""
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def log_size(log: Path) -> int:
    return log.stat().st_size if log.exists() else 0


def read_log(log: Path, offset: int = 0) -> str:
    with log.open("rb") as file:
        file.seek(offset)
        return file.read().decode(errors="replace")


def wait_for_log(log: Path, text: str, process: subprocess.Popen, timeout: float, offset: int = 0) -> None:
    """Wait for `text` in what the process wrote to its log after `offset`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.exists() and text in read_log(log, offset):
            return
        if process.poll() is not None:
            break
        time.sleep(0.1)
    tail = read_log(log, offset)[-3000:] if log.exists() else "(no log)"
    raise AssertionError(f"{text!r} not seen within {timeout}s; log tail:\n{tail}")


class Worker:
    """A real `celery worker` process; `include` adds test-only task modules."""

    def __init__(self, name: str, log: Path, queue: str = "default", include: str = "tests.core.job_tasks"):
        self.name, self.log, self.queue, self.include = name, log, queue, include
        self.process: subprocess.Popen | None = None

    @property
    def hostname(self) -> str:
        return f"{self.name}@{socket.gethostname()}"

    def start(self) -> Worker:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        offset = log_size(self.log)
        output = self.log.open("a")
        # solo pool: one process, so killing it kills the task too, as a crash would.
        self.process = subprocess.Popen(
            [str(BIN / "celery"), "-A", "portal", "worker", "-n", self.hostname, "-Q", self.queue,
             "--pool=solo", "--include", self.include, "--loglevel=info", "--without-gossip",
             "--without-mingle", "--without-heartbeat"],
            cwd=REPO, env=child_environment(), stdout=output, stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,
        )
        wait_for_log(self.log, "ready.", self.process, timeout=60, offset=offset)
        return self

    def kill(self) -> None:
        """Dies the hard way, as a crashed or OOM-killed worker would."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


class PortalServer:
    """daphne serving the portal (HTTP + websockets) on a free local port."""

    def __init__(self, log: Path):
        self.log = log
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> PortalServer:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        offset = log_size(self.log)
        output = self.log.open("a")
        self.process = subprocess.Popen(
            [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(self.port), "portal.asgi:application"],
            cwd=REPO, env=child_environment(DEBUG="false"), stdout=output, stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,
        )
        wait_for_log(self.log, "Listening on TCP address", self.process, timeout=60, offset=offset)
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(15)
