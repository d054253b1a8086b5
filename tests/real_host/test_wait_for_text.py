"""The plugin's log-polling helper, which every boot test leans on."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tests.plugins.real import wait_for_text


def test_it_returns_the_log_once_the_text_appears(tmp_path: Path) -> None:
    log = tmp_path / "serial.log"  # not there yet: QEMU creates it on start
    timer = threading.Timer(0.3, lambda: log.write_text("booting\nGUEST READY vm1\n"))
    timer.start()
    try:
        assert wait_for_text(log, "GUEST READY vm1", timeout=5).endswith("GUEST READY vm1\n")
    finally:
        timer.cancel()


def test_it_shows_the_tail_of_the_log_on_timeout(tmp_path: Path) -> None:
    log = tmp_path / "serial.log"
    log.write_text("".join(f"line {n}\n" for n in range(100)) + "Kernel panic\n")
    with pytest.raises(AssertionError) as excinfo:
        wait_for_text(log, "GUEST READY", timeout=0.3)
    message = str(excinfo.value)
    assert "Kernel panic" in message and "line 99" in message
    assert "line 10\n" not in message  # only the tail
