"""A simulated BMC: OpenIPMI's ipmi_sim on loopback, with a fake power state.

Load it with ``pytest_plugins = ["tests.plugins.bmc"]``. The session fixture
`bmc` starts ipmi_sim (Debian package `openipmi`) on 127.0.0.1 and a free UDP
port, with an admin and a read-only ("user" level) account. Its chassis is a
shell script that ipmi_sim calls as `<script> get power` and `<script> set
power 0|1` (also `set reset 1`, `set boot ...`); the script keeps the power
state in a file, so `ipmitool chassis power off` really changes a state the
test can read, and the test can change it under the BMC's feet.

No `startcmd` is used: that would leave a child process behind when ipmi_sim
stops. ipmi_sim runs in its own session and its whole process group is ended
at session end, so nothing outlives the tests.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

USERNAME = "admin"
PASSWORD = "bmc-s3cret"  # IPMI 2.0 passwords: 20 bytes at most
# A second account that may read but not control the power (privilege "user").
VIEWER_USERNAME = "viewer"
VIEWER_PASSWORD = "viewer-s3cret"

# The simulated machine's chassis. $1 is the state file; ipmi_sim appends the
# operation and its parameters. Every call is logged next to the state file,
# which also proves that the BMC answering is ours (see _start).
CHASSIS_SCRIPT = """#!/bin/sh
state="$1"; shift
op="$1"; shift
echo "$op $*" >> "$state.log"
case "$op" in
get)
    for parm in "$@"; do
        case "$parm" in
        power) echo "power:$(cat "$state")" ;;
        boot) echo "boot:default" ;;
        *) echo "unknown parameter $parm"; exit 1 ;;
        esac
    done ;;
set)
    while [ $# -ge 2 ]; do
        case "$1" in
        power) echo "$2" > "$state" ;;
        reset|boot) ;;  # a reset pulse leaves the power as it is
        *) echo "unknown parameter $1"; exit 1 ;;
        esac
        shift 2
    done ;;
*) echo "unknown operation $op"; exit 1 ;;
esac
"""

LAN_CONF = """name "testbmc"
set_working_mc 0x20
  startlan 1
    addr 127.0.0.1 {port}
    priv_limit admin
    allowed_auths_callback md5
    allowed_auths_user md5
    allowed_auths_operator md5
    allowed_auths_admin md5
    guid a123456789abcdefa123456789abcdef
  endlan
  chassis_control "{chassis} {state}"
  user 2 true "{username}" "{password}" admin 10 md5
  user 3 true "{viewer_username}" "{viewer_password}" user 10 md5
"""

# One BMC management controller at the standard IPMB address 0x20.
EMU = """mc_setbmc 0x20
mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr
sel_enable 0x20 1000 0x0a
mc_enable 0x20
"""


@dataclass
class SimulatedBmc:
    address: str
    port: int
    username: str
    password: str
    state_file: Path
    process: subprocess.Popen
    viewer_username: str = VIEWER_USERNAME
    viewer_password: str = VIEWER_PASSWORD

    def power_state(self) -> str:
        """"on" or "off": the simulated machine's power, as the chassis keeps it."""
        return "on" if self.state_file.read_text().strip() == "1" else "off"

    def set_power_state(self, state: str) -> None:
        """Change the power behind the BMC's back (someone pressed the button)."""
        self.state_file.write_text("1\n" if state == "on" else "0\n")

    def chassis_calls(self) -> list[str]:
        """What ipmi_sim asked the chassis, oldest first ("set power 0", ...)."""
        log = self.state_file.with_name(self.state_file.name + ".log")
        return log.read_text().splitlines() if log.exists() else []

    def wait_for_power(self, state: str, timeout: float = 5) -> None:
        deadline = time.monotonic() + timeout
        while self.power_state() != state:
            if time.monotonic() >= deadline:
                raise AssertionError(f"the simulated machine's power stayed {self.power_state()}, not {state}")
            time.sleep(0.05)

    def ipmitool(self, *words: str, password: str | None = None) -> subprocess.CompletedProcess:
        """Talk to the BMC directly, as an admin would (for the fixture's own checks)."""
        return subprocess.run(
            ["ipmitool", "-I", "lanplus", "-H", self.address, "-p", str(self.port),
             "-U", self.username, "-E", "-C", "3", *words],
            env={**os.environ, "IPMI_PASSWORD": self.password if password is None else password},
            capture_output=True, text=True, timeout=10,
        )


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stop(process: subprocess.Popen) -> None:
    # ipmi_sim leads its own process group (start_new_session): end the group,
    # so a chassis script caught mid-call goes too.
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
    else:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _start(workdir: Path) -> SimulatedBmc:
    chassis = workdir / "chassis"
    chassis.write_text(CHASSIS_SCRIPT)
    chassis.chmod(0o755)
    state = workdir / "power"
    state.write_text("1\n")  # a host that is running
    (workdir / "bmc.emu").write_text(EMU)
    # ipmi_sim keeps users and SDRs under the state dir; without -s it would
    # write to /var/ipmi_sim.
    (workdir / "state").mkdir()
    port = free_udp_port()
    (workdir / "lan.conf").write_text(
        LAN_CONF.format(port=port, chassis=chassis, state=state, username=USERNAME, password=PASSWORD,
                        viewer_username=VIEWER_USERNAME, viewer_password=VIEWER_PASSWORD)
    )
    log = open(workdir / "ipmi_sim.log", "w")
    process = subprocess.Popen(
        ["ipmi_sim", "-n", "-c", str(workdir / "lan.conf"), "-f", str(workdir / "bmc.emu"),
         "-s", str(workdir / "state")],
        cwd=workdir, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    bmc = SimulatedBmc("127.0.0.1", port, USERNAME, PASSWORD, state, process)
    # ipmi_sim does not fail when the port is taken (it binds with
    # SO_REUSEADDR), so "answers" is not enough: the answer must have come
    # through our chassis script.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        if bmc.ipmitool("chassis", "power", "status").returncode == 0 and "get power" in bmc.chassis_calls():
            return bmc
        time.sleep(0.1)
    _stop(process)
    raise RuntimeError(
        f"ipmi_sim did not answer on 127.0.0.1:{port}; its output:\n{(workdir / 'ipmi_sim.log').read_text()}"
    )


@pytest.fixture(scope="session")
def bmc(tmp_path_factory) -> SimulatedBmc:
    """A running simulated BMC whose machine is powered on at the start. Shared
    by the session: a test sets the power state it needs first."""
    missing = [tool for tool in ("ipmi_sim", "ipmitool") if not shutil.which(tool)]
    if missing:
        pytest.fail(
            f"{', '.join(missing)} not installed: the simulated BMC needs the Debian packages "
            "openipmi and ipmitool (scripts/setup test installs them)",
            pytrace=False,
        )
    for attempt in range(3):
        workdir = tmp_path_factory.mktemp("bmc")
        try:
            bmc = _start(workdir)
            break
        except RuntimeError:
            if attempt == 2:
                raise
    try:
        yield bmc
    finally:
        _stop(bmc.process)
