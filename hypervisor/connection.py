"""One libvirt connection per host URI, shared by the whole process.

libvirt connections are thread-safe and meant to be long-lived, and a test driver
node file (``test:///path/host.xml``) is a separate simulated host *per
connection*: sharing one connection per URI is what makes all our modules see the
same host. The cache:

- validates the URI before anything opens it;
- turns on keepalive for daemon connections, so a vanished host is noticed (the
  test driver runs in-process and does not support keepalive);
- drops a connection when libvirt reports it closed (close callback) or when it
  is found dead on the next use, and opens a new one.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import libvirt

from hypervisor.errors import HostUnreachable, HypervisorError, NotSupported, libvirt_errors
from hypervisor.runtime import prepare_libvirt
from hypervisor.uri import validate_uri

log = logging.getLogger(__name__)

KEEPALIVE_INTERVAL_S = 5
KEEPALIVE_COUNT = 3

CloseListener = Callable[[str], None]

_CLOSE_REASONS = {
    libvirt.VIR_CONNECT_CLOSE_REASON_ERROR: "error",
    libvirt.VIR_CONNECT_CLOSE_REASON_EOF: "eof",
    libvirt.VIR_CONNECT_CLOSE_REASON_KEEPALIVE: "keepalive",
    libvirt.VIR_CONNECT_CLOSE_REASON_CLIENT: "client",
}


@dataclass
class _Entry:
    conn: libvirt.virConnect
    close_listeners: list[CloseListener] = field(default_factory=list)


_cache: dict[str, _Entry] = {}
_cache_lock = threading.Lock()
# One lock per URI so that a slow open of one host never blocks the others.
_open_locks: dict[str, threading.Lock] = {}


def get_connection(uri: str) -> libvirt.virConnect:
    """The shared, live connection for ``uri`` (opened or reopened as needed).

    Do not close it: others hold it too. ``close_all`` is the way to let go.
    """
    uri = validate_uri(uri)
    with _open_lock(uri):
        with _cache_lock:
            entry = _cache.get(uri)
        if entry is not None:
            if _is_alive(entry.conn):
                return entry.conn
            _drop(uri, entry.conn, "dead")
        conn = open_connection(uri)
        with _cache_lock:
            _cache[uri] = _Entry(conn)
        _watch_close(uri, conn)
        return conn


def open_connection(uri: str) -> libvirt.virConnect:
    """Open a new, uncached read-write connection (keepalive on where supported)."""
    uri = validate_uri(uri)
    prepare_libvirt()
    with libvirt_errors(uri):
        # openAuth with a callback that supplies nothing: plain open() would fall
        # back to prompting on the terminal, hanging a server process that has one.
        auth = [[libvirt.VIR_CRED_AUTHNAME, libvirt.VIR_CRED_PASSPHRASE], _no_credentials, None]
        conn = libvirt.openAuth(uri, auth, 0)
    try:
        with libvirt_errors(uri):
            conn.setKeepAlive(KEEPALIVE_INTERVAL_S, KEEPALIVE_COUNT)
    except NotSupported:
        pass  # in-process drivers (test:///) have no link that could die
    return conn


def add_close_listener(conn: libvirt.virConnect, listener: CloseListener) -> Callable[[], None]:
    """Call ``listener(reason)`` when this cached connection closes.

    libvirt allows a single close callback per connection, and the cache holds
    it; this fans the notification out. Returns a function that removes the
    listener. A connection that is not (or no longer) cached is reported closed
    at once, so the caller never waits for a notification that cannot come.
    """
    with _cache_lock:
        entry = next((e for e in _cache.values() if e.conn is conn), None)
        if entry is not None:
            entry.close_listeners.append(listener)
    if entry is None:
        listener("client")
        return lambda: None

    def remove() -> None:
        with _cache_lock:
            if listener in entry.close_listeners:
                entry.close_listeners.remove(listener)

    return remove


def close_all() -> None:
    """Close every cached connection (process shutdown, tests)."""
    with _cache_lock:
        uris = list(_cache)
    for uri in uris:
        with _open_lock(uri):
            with _cache_lock:
                entry = _cache.get(uri)
            if entry is not None:
                _drop(uri, entry.conn, "client")


def check_connection(uri: str, timeout: float = 3.0) -> bool:
    """True when the host answers within ``timeout`` seconds, else HostUnreachable.

    Opening a connection to a host that silently drops packets can block for
    minutes inside libvirt, and that call cannot be interrupted: the open runs in
    a daemon worker thread and we stop waiting for it after ``timeout``. (If it
    succeeds later, the connection simply lands in the cache.) Other errors, such
    as InvalidURI, are raised as they are.
    """
    uri = validate_uri(uri)
    outcome: list[Exception | None] = []

    def probe() -> None:
        try:
            conn = get_connection(uri)
            with libvirt_errors(uri):
                conn.getLibVersion()  # a round trip, not just a cached handle
            outcome.append(None)
        except Exception as exc:  # handed over to the waiting thread
            outcome.append(exc)

    worker = threading.Thread(target=probe, name=f"libvirt-probe {uri}", daemon=True)
    worker.start()
    worker.join(timeout)
    if not outcome:
        raise HostUnreachable(f"The hypervisor at {uri} did not answer within {timeout:g} s.", uri=uri)
    if outcome[0] is not None:
        raise outcome[0]
    return True


def _open_lock(uri: str) -> threading.Lock:
    with _cache_lock:
        return _open_locks.setdefault(uri, threading.Lock())


def _no_credentials(_credentials: list, _opaque: object) -> int:
    return -1  # we hold no interactive credentials: fail instead of prompting


def _is_alive(conn: libvirt.virConnect) -> bool:
    try:
        return conn.isAlive() == 1
    except libvirt.libvirtError:
        return False  # closed behind our back: the pointer is gone


def _watch_close(uri: str, conn: libvirt.virConnect) -> None:
    def on_close(_closed: libvirt.virConnect, reason: int, _opaque: object) -> None:
        # Forget it, but do not unregister the callback: doing so from another
        # thread while libvirt is still dispatching this close aborted the
        # whole process (seen in CI). The dead connection's few bytes stay.
        _forget(uri, conn, _CLOSE_REASONS.get(reason, "unknown"))

    try:
        with libvirt_errors(uri):
            conn.registerCloseCallback(on_close, None)
    except HypervisorError as exc:
        # Without it we still notice a dead connection on its next use.
        log.warning("No close notifications for %s: %s", uri, exc.message)


def _forget(uri: str, conn: libvirt.virConnect, reason: str) -> None:
    """Remove ``conn`` from the cache (if still cached) and tell its listeners."""
    with _cache_lock:
        entry = _cache.get(uri)
        if entry is None or entry.conn is not conn:
            return
        del _cache[uri]
        listeners = list(entry.close_listeners)
    for listener in listeners:
        try:
            listener(reason)
        except Exception:  # one faulty listener must not hide the close from others
            log.exception("Close listener for %s failed", uri)


def _drop(uri: str, conn: libvirt.virConnect, reason: str) -> None:
    """Forget a cached connection and release it."""
    _forget(uri, conn, reason)
    _release(conn)


def _release(conn: libvirt.virConnect) -> None:
    try:
        conn.unregisterCloseCallback()
    except libvirt.libvirtError:
        pass  # never registered, or the connection is already gone
    try:
        conn.close()
    except libvirt.libvirtError:
        pass  # already closed; nothing left to release
