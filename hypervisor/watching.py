"""A blocking libvirt call watched while it runs (a volume copy, a migration).

libvirt's long calls (createXMLFrom, migrateToURI3) block until the work ends
and say nothing meanwhile, but the same connection answers other calls from
another thread (libvirt connections are thread-safe, and the binding releases
the GIL while it waits). So the call runs in a thread and the caller's thread
watches: reads the progress, adjusts the work, reports. The watching stays in
the caller's thread because what it reports to usually writes to the caller's
database connection.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def run_watched(work: Callable[[], T], watch: Callable[[], None], *, every: float, name: str) -> T:
    """``work()`` in a thread, ``watch()`` here every ``every`` seconds until
    it returns; its result, or the exception it raised (translated by the
    caller's ``libvirt_errors``). An exception of ``watch`` stops the
    watching and is raised once the work has ended, so nothing runs on
    unwatched (the caller makes the work end, e.g. by aborting the job,
    before raising)."""
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["result"] = work()
        except BaseException as exc:  # noqa: BLE001 (handed to the caller's thread)
            outcome["error"] = exc

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    while not _joined(thread, every):
        watch()
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["result"]  # type: ignore[return-value]


def _joined(thread: threading.Thread, seconds: float) -> bool:
    thread.join(seconds)
    return not thread.is_alive()
