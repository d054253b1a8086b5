"""Domain lifecycle events from a host, delivered to a plain Python callback.

The listener registers on the host's *shared* connection (``get_connection``)
rather than opening its own: a test driver node file is a separate simulated
host per connection, so only the shared connection sees what the rest of the
process does to that host; on a real daemon one connection per host is what
libvirt recommends anyway. Callbacks run on libvirt's event loop thread (see
``hypervisor.runtime``): keep them short (hand work to a queue) and note that an
exception in them is logged, never allowed to stop the loop.

When the connection closes, the listener is dead: ``on_close(uri, reason)`` is
called so its owner can start a new one (which reconnects).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

import libvirt

from hypervisor.connection import add_close_listener, get_connection
from hypervisor.errors import HypervisorError, libvirt_errors
from hypervisor.uri import validate_uri

log = logging.getLogger(__name__)

LIFECYCLE_EVENTS: dict[int, str] = {
    libvirt.VIR_DOMAIN_EVENT_DEFINED: "defined",
    libvirt.VIR_DOMAIN_EVENT_UNDEFINED: "undefined",
    libvirt.VIR_DOMAIN_EVENT_STARTED: "started",
    libvirt.VIR_DOMAIN_EVENT_SUSPENDED: "suspended",
    libvirt.VIR_DOMAIN_EVENT_RESUMED: "resumed",
    libvirt.VIR_DOMAIN_EVENT_STOPPED: "stopped",
    libvirt.VIR_DOMAIN_EVENT_SHUTDOWN: "shutdown",
    libvirt.VIR_DOMAIN_EVENT_PMSUSPENDED: "pmsuspended",
    libvirt.VIR_DOMAIN_EVENT_CRASHED: "crashed",
}


@dataclass(frozen=True)
class DomainEvent:
    uri: str
    domain_uuid: str
    domain_name: str
    event: str  # a value of LIFECYCLE_EVENTS
    detail: int  # libvirt's VIR_DOMAIN_EVENT_<event>_* detail code


EventCallback = Callable[[DomainEvent], None]
CloseCallback = Callable[[str, str], None]


class LifecycleListener:
    """Calls ``callback`` for every lifecycle event of every domain on ``uri``."""

    def __init__(self, uri: str, callback: EventCallback, on_close: CloseCallback | None = None):
        self.uri = validate_uri(uri)
        self._callback = callback
        self._on_close = on_close
        self._lock = threading.Lock()
        self._conn: libvirt.virConnect | None = None
        self._callback_id: int | None = None
        self._remove_close_listener: Callable[[], None] | None = None

    def start(self) -> LifecycleListener:
        with self._lock:
            if self._conn is not None:
                return self
            conn = get_connection(self.uri)
            with libvirt_errors(self.uri):
                self._callback_id = conn.domainEventRegisterAny(
                    None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, self._deliver, None
                )
            self._conn = conn
        # Outside the lock: an already-closed connection reports at once.
        self._remove_close_listener = add_close_listener(conn, self._closed)
        return self

    def stop(self) -> None:
        """Stop delivering events (idempotent). The shared connection stays open."""
        with self._lock:
            conn, callback_id, remove = self._conn, self._callback_id, self._remove_close_listener
            self._conn = self._callback_id = self._remove_close_listener = None
        if remove is not None:
            remove()
        if conn is not None and callback_id is not None:
            try:
                with libvirt_errors(self.uri):
                    conn.domainEventDeregisterAny(callback_id)
            except HypervisorError:
                pass  # the connection died: its registrations died with it

    def __enter__(self) -> LifecycleListener:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def _deliver(
        self, _conn: libvirt.virConnect, domain: libvirt.virDomain, event: int, detail: int, _opaque: object
    ) -> None:
        try:
            self._callback(
                DomainEvent(
                    uri=self.uri,
                    domain_uuid=domain.UUIDString(),
                    domain_name=domain.name(),
                    event=LIFECYCLE_EVENTS.get(event, f"unknown-{event}"),
                    detail=detail,
                )
            )
        except Exception:  # a faulty callback must not kill libvirt's event loop
            log.exception("Lifecycle event callback for %s failed", self.uri)

    def _closed(self, reason: str) -> None:
        with self._lock:
            self._conn = self._callback_id = self._remove_close_listener = None
        if self._on_close is None:
            return
        try:
            self._on_close(self.uri, reason)
        except Exception:  # same rule as for events: log, never propagate into libvirt
            log.exception("Connection close callback for %s failed", self.uri)


def listen_lifecycle(
    uri: str, callback: EventCallback, on_close: CloseCallback | None = None
) -> LifecycleListener:
    """Start a LifecycleListener; call ``.stop()`` on the result to end it."""
    return LifecycleListener(uri, callback, on_close).start()
