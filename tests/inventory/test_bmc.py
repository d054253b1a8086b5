"""The BMC driver (inventory/bmc.py) alone: ipmitool against OpenIPMI's ipmi_sim,
and the settings it refuses before anything runs. No database, no Django."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from inventory import bmc as driver
from inventory.bmc import (
    BmcError,
    BmcSettingsInvalid,
    PowerSettings,
    power_action,
    power_settings_validate,
    power_status,
)
from tests.plugins.bmc import free_udp_port

real = pytest.mark.real


def settings_for(bmc, **changes) -> PowerSettings:
    values = dict(agent="ipmilan", address=bmc.address, port=bmc.port, username=bmc.username,
                  password=bmc.password, options="")
    values.update(changes)
    return PowerSettings(**values)


@pytest.fixture
def ipmitool_calls(monkeypatch):
    """Every ipmitool run, as (argv, env), still really run."""
    calls = []
    run = subprocess.run

    def recording_run(argv, **kwargs):
        calls.append((list(argv), dict(kwargs.get("env") or {})))
        return run(argv, **kwargs)

    monkeypatch.setattr(driver.subprocess, "run", recording_run)
    return calls


@pytest.fixture
def no_ipmitool_run(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError(f"ipmitool ran although the settings are invalid: {args}")

    monkeypatch.setattr(driver.subprocess, "run", refuse)


# --- through the simulated BMC ----------------------------------------------


@real
@pytest.mark.parametrize("state", ["on", "off"])
def test_it_reads_the_power_status_the_simulated_machine_has(bmc, state):
    bmc.set_power_state(state)
    assert power_status(settings_for(bmc)) == state


@real
def test_it_powers_the_machine_off_and_on_again(bmc):
    bmc.set_power_state("on")

    power_action(settings_for(bmc), "off")
    assert bmc.power_state() == "off"
    assert power_status(settings_for(bmc)) == "off"

    power_action(settings_for(bmc), "on")
    assert bmc.power_state() == "on"
    assert power_status(settings_for(bmc)) == "on"


@real
def test_it_power_cycles_the_machine_which_comes_back_on(bmc):
    bmc.set_power_state("on")
    calls_before = len(bmc.chassis_calls())

    power_action(settings_for(bmc), "cycle")

    # ipmi_sim powers off at once and on again about a second later.
    assert "set power 0" in bmc.chassis_calls()[calls_before:]
    bmc.wait_for_power("on", timeout=5)


@real
def test_it_resets_the_machine_without_changing_its_power(bmc):
    bmc.set_power_state("on")
    calls_before = len(bmc.chassis_calls())

    power_action(settings_for(bmc), "reset")

    assert "set reset 1" in bmc.chassis_calls()[calls_before:]
    assert bmc.power_state() == "on"


@real
def test_it_passes_the_password_in_the_environment_never_on_the_command_line(bmc, ipmitool_calls):
    bmc.set_power_state("on")
    power_status(settings_for(bmc))

    [(argv, env)] = ipmitool_calls
    assert bmc.password not in " ".join(argv)
    assert "-E" in argv and env["IPMI_PASSWORD"] == bmc.password
    assert argv[argv.index("-C") + 1] == "3"  # without it every call waits 10 s


@real
def test_it_says_the_bmc_refused_a_wrong_password_without_showing_it(bmc, ipmitool_calls):
    wrong = "not-the-password"
    with pytest.raises(BmcError) as caught:
        power_status(settings_for(bmc, password=wrong))

    error = caught.value
    assert str(error) == f"BMC 127.0.0.1:{bmc.port} refused the user name or password"
    assert wrong not in str(error)
    [(argv, _)] = ipmitool_calls
    assert wrong not in " ".join(argv)


@real
def test_it_says_the_bmc_refused_an_unknown_user_name(bmc):
    with pytest.raises(BmcError, match="refused the user name or password"):
        power_status(settings_for(bmc, username="nobody"))


@real
def test_it_says_when_the_account_may_read_but_not_control_the_power(bmc):
    bmc.set_power_state("off")
    viewer = settings_for(bmc, username=bmc.viewer_username, password=bmc.viewer_password,
                          options="privlvl=user")
    assert power_status(viewer) == "off"

    with pytest.raises(BmcError) as caught:
        power_action(viewer, "on")

    assert str(caught.value).startswith(
        f"BMC 127.0.0.1:{bmc.port} refused power on for user 'viewer': Insufficient privilege level"
    )
    assert "privlvl" in str(caught.value)
    assert bmc.power_state() == "off"


@real
def test_it_says_which_cipher_suite_the_bmc_does_not_offer(bmc):
    # ipmi_sim offers suites 0-3 only; 17 (SHA-256) is common on newer BMCs.
    with pytest.raises(BmcError, match="does not offer IPMI cipher suite 17"):
        power_status(settings_for(bmc, options="cipher=17"))


@real
def test_it_accepts_the_allowed_options_and_passes_them_on(bmc, ipmitool_calls):
    bmc.set_power_state("off")
    options = "lanplus, cipher=3, privlvl=operator"

    assert power_status(settings_for(bmc, options=options)) == "off"

    [(argv, _)] = ipmitool_calls
    assert argv[argv.index("-L") + 1] == "OPERATOR"


@real
def test_it_gives_up_on_a_silent_bmc_within_the_timeout():
    # Nothing listens there: UDP gets no answer and ipmitool would retry for ~20 s.
    port = free_udp_port()
    started = time.monotonic()
    with pytest.raises(BmcError) as caught:
        power_status(PowerSettings(agent="ipmilan", address="127.0.0.1", port=port,
                                   username="admin", password="x"), timeout=1)
    elapsed = time.monotonic() - started

    assert str(caught.value) == f"no answer from BMC 127.0.0.1:{port} within 1 s"
    assert elapsed < 1.5


# --- refused before anything runs -------------------------------------------


@pytest.mark.parametrize("address", [
    "", "127.0.0.1; reboot", "bmc host", "$(reboot)", "bmc`id`", "-oProxyCommand=x", "bmc|x", "a" * 64 + ".example",
])
def test_it_refuses_an_address_that_is_no_host_name_or_ip(address, no_ipmitool_run):
    with pytest.raises(BmcSettingsInvalid):
        power_status(PowerSettings(agent="ipmilan", address=address, port=623))


@pytest.mark.parametrize("address", ["10.0.0.9", "bmc-01.example.org", "fd00::9", "bmc"])
def test_it_accepts_host_names_and_ip_addresses(address):
    power_settings_validate(PowerSettings(agent="ipmilan", address=address, port=623))


@pytest.mark.parametrize("port", [0, 65536, -1, "623", True, 6.23])
def test_it_refuses_a_port_out_of_range(port, no_ipmitool_run):
    with pytest.raises(BmcSettingsInvalid, match="not a port number"):
        power_status(PowerSettings(agent="ipmilan", address="10.0.0.9", port=port))


@pytest.mark.parametrize("options", [
    "lanplus=0", "cipher=99", "cipher=three", "privlvl=root", "-o evil", "interface=lan", "lanplus;reboot",
])
def test_it_refuses_options_outside_the_allow_list(options, no_ipmitool_run):
    with pytest.raises(BmcSettingsInvalid, match="option"):
        power_status(PowerSettings(agent="ipmilan", address="10.0.0.9", port=623, options=options))


def test_it_refuses_credentials_longer_than_ipmi_allows(no_ipmitool_run):
    with pytest.raises(BmcSettingsInvalid, match="20 bytes"):
        power_status(PowerSettings(agent="ipmilan", address="10.0.0.9", password="p" * 21))
    with pytest.raises(BmcSettingsInvalid, match="16 bytes"):
        power_status(PowerSettings(agent="ipmilan", address="10.0.0.9", username="u" * 17))


def test_it_refuses_redfish_clearly_instead_of_pretending(no_ipmitool_run):
    settings = PowerSettings(agent="redfish", address="10.0.0.9", port=443, username="root", password="x")
    with pytest.raises(BmcSettingsInvalid, match="agent redfish is not supported yet"):
        power_status(settings)
    with pytest.raises(BmcSettingsInvalid, match="agent redfish is not supported yet"):
        power_action(settings, "off")


def test_it_refuses_an_unknown_power_action(no_ipmitool_run):
    with pytest.raises(BmcSettingsInvalid, match="unknown power action 'explode'"):
        power_action(PowerSettings(agent="ipmilan", address="10.0.0.9"), "explode")


def test_it_names_the_debian_package_when_ipmitool_is_missing(monkeypatch):
    monkeypatch.setattr(driver, "IPMITOOL", "/nonexistent/ipmitool")
    with pytest.raises(BmcError, match="install the Debian package ipmitool"):
        power_status(PowerSettings(agent="ipmilan", address="10.0.0.9"))


def test_it_keeps_the_password_out_of_the_settings_repr():
    assert "s3cret" not in repr(PowerSettings(agent="ipmilan", address="10.0.0.9", password="s3cret"))


def test_it_scrubs_the_password_from_whatever_ipmitool_says():
    settings = PowerSettings(agent="ipmilan", address="10.0.0.9", username="root", password="hunter2")
    error = driver._failure(settings, ["chassis", "power", "status"], "odd failure near hunter2\n", 1)
    assert "hunter2" not in str(error) and "***" in str(error)


def test_the_driver_imports_without_django():
    check = "import sys, inventory.bmc; sys.exit(any(m.split('.')[0] == 'django' for m in sys.modules))"
    assert subprocess.run([sys.executable, "-c", check], env={"PATH": os.environ["PATH"]},
                          cwd=Path(driver.__file__).parents[1]).returncode == 0
