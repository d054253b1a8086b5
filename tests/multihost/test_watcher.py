"""The host watcher notices a lost libvirtd from the connection's close
callback, without waiting for the periodic check, and brings the host back
up when the daemon returns."""

import time

import pytest

from core.models import Event
from inventory.choices import HostStatus
from inventory.models import Host
from tests.inventory.factories import HostFactory

pytestmark = [pytest.mark.multihost, pytest.mark.django_db(transaction=True)]


def wait_for(host_id: int, status: str, timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if Host.objects.get(pk=host_id).status == status:
            return time.monotonic() - started
        time.sleep(0.1)
    raise AssertionError(f"host still {Host.objects.get(pk=host_id).status} after {timeout}s")


def test_it_marks_a_host_non_responsive_when_its_connection_closes(testhost, watcher):
    delta = testhost("delta")
    host = HostFactory(name="delta", uri=delta.uri, status=HostStatus.CONNECTING)
    wait_for(host.pk, HostStatus.UP, timeout=15)
    deadline = time.monotonic() + 10
    while host.pk not in watcher.watched and time.monotonic() < deadline:
        time.sleep(0.05)
    assert host.pk in watcher.watched, "the watcher attached its close listener"

    delta.stop_daemon()
    noticed_after = wait_for(host.pk, HostStatus.NON_RESPONSIVE, timeout=15)
    # The event keeps why it was lost (the reason on the host follows later
    # retries); it is written just after the status.
    deadline = time.monotonic() + 5
    while not (lost := Event.objects.filter(code="host.non_responsive", target_id=str(host.pk)).first()):
        assert time.monotonic() < deadline, "no event for the lost host"
        time.sleep(0.05)
    assert "closed" in lost.message
    assert noticed_after < 5, f"the close callback took {noticed_after:.1f}s"

    delta.start_daemon()
    wait_for(host.pk, HostStatus.UP, timeout=15)


def test_it_marks_an_up_host_it_cannot_connect_to_non_responsive(testhost, watcher):
    epsilon = testhost("epsilon")
    epsilon.stop_daemon()
    host = HostFactory(name="epsilon", uri=epsilon.uri, status=HostStatus.UP)
    wait_for(host.pk, HostStatus.NON_RESPONSIVE, timeout=15)
    epsilon.start_daemon()
    wait_for(host.pk, HostStatus.UP, timeout=15)
