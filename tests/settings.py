"""The tests' settings: the portal's own, read after setting test defaults
(the tests use Redis database 15, never the one a running portal uses)."""

import os

os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("HOST_CHECK_INTERVAL_SECONDS", "3600")

from portal.settings import *  # noqa: E402,F401,F403

CELERY_TASK_ROUTES = {"test.sleeps": {"queue": "tests-sleeps"}}
