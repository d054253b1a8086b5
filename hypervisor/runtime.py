"""Process-wide libvirt setup, done once before the first connection opens.

- libvirt prints every error to stderr by default; we report errors through our
  exceptions (``hypervisor.errors``), so the printing is switched off.
- The default event loop must be registered *before* a connection opens: the
  remote driver hooks its socket into the loop at open time. Without it there are
  no keepalives, no close callbacks and no domain events. The loop runs in one
  daemon thread for the whole process.
"""

from __future__ import annotations

import logging
import threading
import time

import libvirt

log = logging.getLogger(__name__)

_lock = threading.Lock()
_prepared = False


def prepare_libvirt() -> None:
    """Silence libvirt's stderr printing and start the event loop thread (once)."""
    global _prepared
    with _lock:
        if _prepared:
            return
        libvirt.registerErrorHandler(_ignore_error, None)
        libvirt.virEventRegisterDefaultImpl()
        threading.Thread(target=_run_event_loop, name="libvirt-events", daemon=True).start()
        _prepared = True


def _ignore_error(_opaque: object, _error: object) -> None:
    """libvirt error handler that prints nothing (errors surface as exceptions)."""


def _run_event_loop() -> None:
    while True:
        try:
            libvirt.virEventRunDefaultImpl()
        except Exception:  # the loop must outlive any single failure
            log.exception("libvirt event loop iteration failed")
            time.sleep(0.1)  # do not spin if the failure repeats
