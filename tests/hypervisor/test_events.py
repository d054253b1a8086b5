"""The lifecycle events listener: define, start, stop and undefine reach the callback; a closing connection is told."""

import queue

import pytest

from hypervisor import (
    DomainEvent,
    DomainSpec,
    close_all,
    define_domain,
    destroy_domain,
    listen_lifecycle,
    start_domain,
    undefine_domain,
)

WITHIN_S = 1.0


class Inbox:
    """Collects events from libvirt's loop thread for the test thread."""

    def __init__(self) -> None:
        self.events: queue.Queue[DomainEvent] = queue.Queue()

    def __call__(self, event: DomainEvent) -> None:
        self.events.put(event)

    def next(self) -> DomainEvent:
        try:
            return self.events.get(timeout=WITHIN_S)
        except queue.Empty:
            pytest.fail(f"no lifecycle event within {WITHIN_S} s")

    def assert_quiet(self) -> None:
        with pytest.raises(queue.Empty):
            self.events.get(timeout=0.3)


def test_it_delivers_define_start_stop_and_undefine_events(small_host):
    inbox = Inbox()
    listener = listen_lifecycle(small_host, inbox)
    try:
        uuid = define_domain(small_host, DomainSpec(name="ev-vm", memory_mb=128, domain_type="test"))
        defined = inbox.next()
        start_domain(small_host, uuid)
        started = inbox.next()
        destroy_domain(small_host, uuid)
        stopped = inbox.next()
        undefine_domain(small_host, uuid)
        undefined = inbox.next()
    finally:
        listener.stop()

    assert defined == DomainEvent(uri=small_host, domain_uuid=uuid, domain_name="ev-vm", event="defined", detail=0)
    assert [e.event for e in (started, stopped, undefined)] == ["started", "stopped", "undefined"]
    assert {e.domain_uuid for e in (started, stopped, undefined)} == {uuid}


def test_it_keeps_delivering_after_a_callback_raised(small_host, caplog):
    inbox = Inbox()

    def flaky(event: DomainEvent) -> None:
        inbox(event)
        if event.event == "defined":
            raise RuntimeError("bug in the portal's handler")

    listener = listen_lifecycle(small_host, flaky)
    try:
        uuid = define_domain(small_host, DomainSpec(name="ev-flaky", memory_mb=128, domain_type="test"))
        assert inbox.next().event == "defined"
        start_domain(small_host, uuid)
        assert inbox.next().event == "started"
    finally:
        listener.stop()
    assert "bug in the portal's handler" in caplog.text


def test_it_delivers_nothing_after_stop(small_host):
    inbox = Inbox()
    listen_lifecycle(small_host, inbox).stop()

    define_domain(small_host, DomainSpec(name="ev-quiet", memory_mb=128, domain_type="test"))

    inbox.assert_quiet()


def test_it_reports_the_connection_closing(small_host):
    closed = queue.Queue()
    listener = listen_lifecycle(small_host, Inbox(), on_close=lambda uri, reason: closed.put((uri, reason)))

    close_all()

    assert closed.get(timeout=WITHIN_S) == (small_host, "client")
    listener.stop()  # harmless once the connection is gone
