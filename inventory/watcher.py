"""Watches every host's libvirt connection from one long-running process
(`manage.py watch_hosts`, in the Procfile). libvirt's close callback (the
daemon went away, or keepalives stopped coming back) marks the host
non_responsive at once, rather than at the next periodic check; hosts that
are not answering are tried again every few seconds and come back up by
themselves."""

from __future__ import annotations

import logging
import queue
from collections.abc import Callable

import hypervisor
from inventory.choices import HostStatus
from inventory.models import Host
from inventory.services.hosts import STATES_THE_MONITOR_LEAVES_ALONE, host_check, host_set_status

logger = logging.getLogger(__name__)

SWEEP_SECONDS = 5.0


class HostWatcher:
    def __init__(self, sweep_seconds: float = SWEEP_SECONDS):
        self.sweep_seconds = sweep_seconds
        self.watched: dict[int, str] = {}  # host id -> the URI its listener watches
        # Close callbacks arrive on libvirt's event loop thread; the database
        # work happens here, in the watcher's own thread.
        self.closed: queue.Queue[tuple[int, str]] = queue.Queue()

    def run(self, keep_going: Callable[[], bool] = lambda: True) -> None:
        while keep_going():
            self.sweep()
            self.handle_closed(wait=self.sweep_seconds)

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
            hypervisor.add_close_listener(conn, lambda reason, pk=host.pk: self.closed.put((pk, reason)))
            self.watched[host.pk] = host.uri

    def handle_closed(self, wait: float) -> None:
        try:
            host_id, reason = self.closed.get(timeout=wait)
        except queue.Empty:
            return
        self.watched.pop(host_id, None)
        host = Host.objects.select_related("cluster__data_center").filter(pk=host_id).first()
        if host is not None and host.status == HostStatus.UP:
            host_set_status(
                host=host, status=HostStatus.NON_RESPONSIVE,
                reason=f"The connection to {host.uri} closed ({reason}).",
            )
