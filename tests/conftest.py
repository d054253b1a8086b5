"""The shared cast (admin; alice owns, bob is granted, charlie has nothing) and the real processes of the test lanes."""

import threading
import time

import pytest
from django.contrib.auth import get_user_model
from django.db import connections
from rest_framework.test import APIClient

from core.accounts import superuser_role
from core.models import Job, JobStatus, Permission
from tests.support.processes import REPO, PortalServer, Worker

pytest_plugins = ["tests.plugins.real", "tests.plugins.bmc", "tests.plugins.multihost", "tests.plugins.consoles"]

ARTIFACTS = REPO / "test-artifacts"
PASSWORD = "correct-horse-battery"


def pytest_collection_modifyitems(items):
    """Transactional tests empty the database after each test, and Django then
    creates the content types again. With sequences reset they get the same
    ids each time: the test worker and daphne, which live for the whole run
    and cache those ids, keep writing events and jobs that point somewhere."""
    for item in items:
        marker = item.get_closest_marker("django_db")
        if marker and marker.kwargs.get("transaction") and "reset_sequences" not in marker.kwargs:
            item.add_marker(pytest.mark.django_db(*marker.args, **{**marker.kwargs, "reset_sequences": True}))


def make_user(username: str, **extra):
    return get_user_model().objects.create_user(username=username, password=PASSWORD, **extra)


@pytest.fixture
def admin(db):
    """An administrator as set-up makes one: the SuperUser role, system-wide."""
    user = make_user("admin", is_staff=True)
    Permission.objects.create(role=superuser_role(), user=user)
    return user


@pytest.fixture
def alice(db):
    """Owns things."""
    return make_user("alice")


@pytest.fixture
def bob(db):
    """Is granted things by others."""
    return make_user("bob")


@pytest.fixture
def charlie(db):
    """Has nothing at all."""
    return make_user("charlie")


@pytest.fixture
def logged_in(client, admin):
    """The browser's face: a test client logged in as the admin."""
    client.force_login(admin)
    return client


@pytest.fixture
def api(admin):
    client = APIClient()
    client.force_authenticate(admin)
    return client


@pytest.fixture
def anonymous_api():
    return APIClient()


@pytest.fixture(scope="session")
def worker(django_db_setup, django_db_blocker, redis_url):
    """A real Celery worker on the test database and the tests' Redis."""
    worker = Worker("tests-shared", ARTIFACTS / "logs" / "worker.log").start()
    yield worker
    worker.stop()


# How long a test that used the shared worker may leave it busy afterwards.
WORKER_IDLE_TIMEOUT_SECONDS = 30


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    """A test that used the shared worker waits, before its database is
    emptied, until the jobs it started have ended. Job ids restart with every
    test (see above): a job left running would otherwise publish, or be
    claimed, under the id of the next test's job."""
    yield
    if "worker" not in item.fixturenames:
        return
    deadline = time.monotonic() + WORKER_IDLE_TIMEOUT_SECONDS
    while Job.objects.filter(status__in=JobStatus.ACTIVE).exists() and time.monotonic() < deadline:
        time.sleep(0.1)


@pytest.fixture
def watcher():
    """The host watcher (`manage.py watch_hosts`) running in a thread of the test."""
    from inventory.watcher import HostWatcher

    running = threading.Event()
    running.set()
    watcher = HostWatcher(sweep_seconds=0.5)

    def run():
        try:
            watcher.run(keep_going=running.is_set)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    yield watcher
    running.clear()
    thread.join(5)


@pytest.fixture(scope="session")
def portal_server(django_db_setup, redis_url):
    server = PortalServer(ARTIFACTS / "logs" / "daphne.log").start()
    yield server
    server.stop()
