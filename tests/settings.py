"""The tests' settings: the portal's own, read after setting test defaults
(the tests use Redis database 15, never the one a running portal uses)."""

import os
import socket

os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("HOST_CHECK_INTERVAL_SECONDS", "3600")
os.environ.setdefault("STORAGE_REFRESH_INTERVAL_SECONDS", "3600")
os.environ.setdefault("VM_RECONCILE_INTERVAL_SECONDS", "3600")
os.environ.setdefault("BALANCE_INTERVAL_SECONDS", "3600")
if "CONSOLE_PROXY_URL" not in os.environ:
    # The console proxy of this run (tests/consoles/conftest.py starts it there),
    # to which the test daphne relays /websockify: never a running portal's 6080.
    with socket.socket() as _probe:
        _probe.bind(("127.0.0.1", 0))
        os.environ["CONSOLE_PROXY_URL"] = f"ws://127.0.0.1:{_probe.getsockname()[1]}"

from portal.settings import *  # noqa: E402,F401,F403
from portal.settings import DATABASES, VAR_DIR  # noqa: E402

if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # A file, not memory: the test lanes' Celery worker and daphne run in their
    # own processes and must see the same test database. One per test run, so
    # that two runs in one checkout never share it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-db-{os.getpid()}.sqlite3")}

CELERY_TASK_ROUTES = {"test.sleeps": {"queue": "tests-sleeps"}}

PASSWORD_HASHERS = ["tests.support.hashers.FastPBKDF2PasswordHasher"]
