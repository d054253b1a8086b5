"""The connection cache: one connection per URI shared by threads, reopened after a close, close listeners, quick checks."""

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from hypervisor import (
    HostUnreachable,
    InvalidURI,
    add_close_listener,
    check_connection,
    close_all,
    get_connection,
)


def test_it_returns_the_same_connection_for_the_same_host(small_host):
    first = get_connection(small_host)

    assert get_connection(small_host) is first
    assert get_connection(small_host.replace("test://", "TEST://")) is first
    assert first.isAlive() == 1


def test_it_shares_one_connection_between_threads(small_host):
    seen = []
    threads = [threading.Thread(target=lambda: seen.append(get_connection(small_host))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(seen) == 8
    assert all(conn is seen[0] for conn in seen)


def test_it_reconnects_after_the_connection_was_closed(small_host):
    first = get_connection(small_host)
    first.close()

    second = get_connection(small_host)

    assert second is not first
    assert second.isAlive() == 1
    assert second.getType() == "TEST"


def test_it_validates_the_uri_before_opening_anything():
    with pytest.raises(InvalidURI):
        get_connection("qemu+ext:///system?command=/bin/true")


def test_it_tells_close_listeners_and_reopens_after_close_all(small_host):
    conn = get_connection(small_host)
    reasons = []
    add_close_listener(conn, reasons.append)

    close_all()

    assert reasons == ["client"]
    assert get_connection(small_host) is not conn


def test_it_stops_telling_a_removed_close_listener(small_host):
    reasons = []
    remove = add_close_listener(get_connection(small_host), reasons.append)
    remove()

    close_all()

    assert reasons == []


def test_it_checks_a_host_that_answers(small_host):
    assert check_connection(small_host, timeout=3.0) is True


def test_it_reports_a_refused_host_as_unreachable_at_once():
    started = time.monotonic()
    with pytest.raises(HostUnreachable) as caught:
        check_connection("qemu+tcp://127.0.0.1:1/system", timeout=3.0)

    assert time.monotonic() - started < 2.0
    assert "Connection refused" in caught.value.message


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP port that accepts connections but never says a word (a hung host)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    yield server.getsockname()[1]
    server.close()  # refuses the pending connections: the stuck probe ends


def test_it_gives_up_on_a_silent_host_after_the_timeout(silent_server):
    uri = f"qemu+tcp://127.0.0.1:{silent_server}/system"
    started = time.monotonic()
    with pytest.raises(HostUnreachable) as caught:
        check_connection(uri, timeout=0.5)

    assert time.monotonic() - started < 1.5
    assert caught.value.transient is True
    assert "did not answer within 0.5 s" in caught.value.message
