"""Watches every host's libvirt connection from one long-running process
(`manage.py watch_hosts`, in the Procfile). libvirt's close callback (the
daemon went away, or keepalives stopped coming back) marks the host
non_responsive at once, rather than at the next periodic check; hosts that
are not answering are tried again every few seconds and come back up by
themselves.

The same process listens to each host's domain lifecycle events and hands
them to the handlers higher apps register (the vms app keeps VM status in
step with them); inventory itself knows nothing of VMs."""

from __future__ import annotations

import logging
import queue
import time
from collections.abc import Callable

import hypervisor
from inventory.choices import HostStatus
from inventory.models import Host
from inventory.services.hosts import STATES_THE_MONITOR_LEAVES_ALONE, host_check, host_set_status

logger = logging.getLogger(__name__)

SWEEP_SECONDS = 5.0

DomainEventHandler = Callable[[hypervisor.DomainEvent], None]
_domain_event_handlers: list[DomainEventHandler] = []


def register_domain_event_handler(handler: DomainEventHandler) -> None:
    _domain_event_handlers.append(handler)


class HostWatcher:
    def __init__(self, sweep_seconds: float = SWEEP_SECONDS):
        self.sweep_seconds = sweep_seconds
        self.watched: dict[int, str] = {}  # host id -> the URI its listener watches
        self.listeners: dict[int, hypervisor.LifecycleListener] = {}
        # Callbacks arrive on libvirt's event loop thread; the database work
        # happens here, in the watcher's own thread. Items: ("closed", host
        # id, reason) or ("event", DomainEvent, None).
        self.inbox: queue.Queue[tuple[str, object, object]] = queue.Queue()

    def run(self, keep_going: Callable[[], bool] = lambda: True) -> None:
        while keep_going():
            self.sweep()
            self.handle_inbox(wait=self.sweep_seconds)

    def sweep(self) -> None:
        hosts = Host.objects.exclude(status__in=STATES_THE_MONITOR_LEAVES_ALONE).select_related(
            "cluster__data_center"
        )
        for host in hosts:
            if self.watched.get(host.pk) == host.uri:
                continue
            try:
                if host.status != HostStatus.UP:
                    host_check(host=host)  # marks it up, or non_responsive saying why
                conn = hypervisor.get_connection(host.uri)
            except hypervisor.HypervisorError as error:
                if host.status == HostStatus.UP:  # lost before its listener was attached
                    host_set_status(host=host, status=HostStatus.NON_RESPONSIVE, reason=error.message)
                logger.info("host %s is not answering: %s", host.name, error.message)
                continue
            hypervisor.add_close_listener(conn, lambda reason, pk=host.pk: self.inbox.put(("closed", pk, reason)))
            self.watched[host.pk] = host.uri
            self._listen(host)

    def _listen(self, host: Host) -> None:
        if not _domain_event_handlers:
            return
        old = self.listeners.pop(host.pk, None)
        if old is not None:
            old.stop()
        try:
            self.listeners[host.pk] = hypervisor.listen_lifecycle(
                host.uri, lambda event: self.inbox.put(("event", event, None))
            )
        except hypervisor.HypervisorError as error:
            logger.info("no lifecycle events from %s: %s", host.name, error.message)

    def handle_inbox(self, wait: float) -> None:
        """Handle what arrived, waiting up to ``wait`` seconds for the first."""
        deadline = time.monotonic() + wait
        while True:
            try:
                kind, subject, detail = self.inbox.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                return
            if kind == "event":
                self._dispatch(subject)
            else:
                self._closed(subject, detail)

    def _dispatch(self, event: hypervisor.DomainEvent) -> None:
        for handler in _domain_event_handlers:
            try:
                handler(event)
            except Exception:  # one bad event must not stop the watcher
                logger.exception("handling %s of %s failed", event.event, event.domain_name)

    def _closed(self, host_id: int, reason: str) -> None:
        self.watched.pop(host_id, None)
        host = Host.objects.select_related("cluster__data_center").filter(pk=host_id).first()
        if host is not None and host.status == HostStatus.UP:
            host_set_status(
                host=host, status=HostStatus.NON_RESPONSIVE,
                reason=f"The connection to {host.uri} closed ({reason}).",
            )
