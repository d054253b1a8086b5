"""Out-of-band power management through ipmitool, against OpenIPMI's ipmi_sim."""

import subprocess
import time

import pytest
from cryptography.fernet import Fernet
from django.test import override_settings

from core.errors import InvalidInput
from core.models import Event, Severity
from core.secrets import SecretUnreadable, encrypt_secret
from inventory import power
from inventory.power import (
    PowerManagementError,
    PowerSettings,
    host_power_settings,
    host_power_test,
    power_action,
    power_settings_validate,
    power_status,
)
from tests.inventory.factories import HostFactory
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

    monkeypatch.setattr(power.subprocess, "run", recording_run)
    return calls


@pytest.fixture
def no_ipmitool_run(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError(f"ipmitool ran although the settings are invalid: {args}")

    monkeypatch.setattr(power.subprocess, "run", refuse)


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
    with pytest.raises(PowerManagementError) as caught:
        power_status(settings_for(bmc, password=wrong))

    error = caught.value
    assert error.detail == f"BMC 127.0.0.1:{bmc.port} refused the user name or password"
    assert error.status_code == 503 and error.code == "power_management_failed"
    assert wrong not in error.detail
    [(argv, _)] = ipmitool_calls
    assert wrong not in " ".join(argv)


@real
def test_it_says_the_bmc_refused_an_unknown_user_name(bmc):
    with pytest.raises(PowerManagementError, match="refused the user name or password"):
        power_status(settings_for(bmc, username="nobody"))


@real
def test_it_says_when_the_account_may_read_but_not_control_the_power(bmc):
    bmc.set_power_state("off")
    viewer = settings_for(bmc, username=bmc.viewer_username, password=bmc.viewer_password,
                          options="privlvl=user")
    assert power_status(viewer) == "off"

    with pytest.raises(PowerManagementError) as caught:
        power_action(viewer, "on")

    assert caught.value.detail.startswith(
        f"BMC 127.0.0.1:{bmc.port} refused power on for user 'viewer': Insufficient privilege level"
    )
    assert "privlvl" in caught.value.detail
    assert bmc.power_state() == "off"


@real
def test_it_says_which_cipher_suite_the_bmc_does_not_offer(bmc):
    # ipmi_sim offers suites 0-3 only; 17 (SHA-256) is common on newer BMCs.
    with pytest.raises(PowerManagementError, match="does not offer IPMI cipher suite 17"):
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
    with pytest.raises(PowerManagementError) as caught:
        power_status(PowerSettings(agent="ipmilan", address="127.0.0.1", port=port,
                                   username="admin", password="x"), timeout=1)
    elapsed = time.monotonic() - started

    assert caught.value.detail == f"no answer from BMC 127.0.0.1:{port} within 1 s"
    assert elapsed < 1.5


# --- refused before anything runs -------------------------------------------


@pytest.mark.parametrize("address", [
    "", "127.0.0.1; reboot", "bmc host", "$(reboot)", "bmc`id`", "-oProxyCommand=x", "bmc|x", "a" * 64 + ".example",
])
def test_it_refuses_an_address_that_is_no_host_name_or_ip(address, no_ipmitool_run):
    with pytest.raises(InvalidInput):
        power_status(PowerSettings(agent="ipmilan", address=address, port=623))


@pytest.mark.parametrize("address", ["10.0.0.9", "bmc-01.example.org", "fd00::9", "bmc"])
def test_it_accepts_host_names_and_ip_addresses(address):
    power_settings_validate(PowerSettings(agent="ipmilan", address=address, port=623))


@pytest.mark.parametrize("port", [0, 65536, -1, "623", True, 6.23])
def test_it_refuses_a_port_out_of_range(port, no_ipmitool_run):
    with pytest.raises(InvalidInput, match="not a port number"):
        power_status(PowerSettings(agent="ipmilan", address="10.0.0.9", port=port))


@pytest.mark.parametrize("options", [
    "lanplus=0", "cipher=99", "cipher=three", "privlvl=root", "-o evil", "interface=lan", "lanplus;reboot",
])
def test_it_refuses_options_outside_the_allow_list(options, no_ipmitool_run):
    with pytest.raises(InvalidInput, match="option"):
        power_status(PowerSettings(agent="ipmilan", address="10.0.0.9", port=623, options=options))


def test_it_refuses_credentials_longer_than_ipmi_allows(no_ipmitool_run):
    with pytest.raises(InvalidInput, match="20 bytes"):
        power_status(PowerSettings(agent="ipmilan", address="10.0.0.9", password="p" * 21))
    with pytest.raises(InvalidInput, match="16 bytes"):
        power_status(PowerSettings(agent="ipmilan", address="10.0.0.9", username="u" * 17))


def test_it_refuses_redfish_clearly_instead_of_pretending(no_ipmitool_run):
    settings = PowerSettings(agent="redfish", address="10.0.0.9", port=443, username="root", password="x")
    with pytest.raises(InvalidInput, match="agent redfish is not supported yet"):
        power_status(settings)
    with pytest.raises(InvalidInput, match="agent redfish is not supported yet"):
        power_action(settings, "off")


def test_it_refuses_an_unknown_power_action(no_ipmitool_run):
    with pytest.raises(InvalidInput, match="unknown power action 'explode'"):
        power_action(PowerSettings(agent="ipmilan", address="10.0.0.9"), "explode")


def test_it_names_the_debian_package_when_ipmitool_is_missing(monkeypatch):
    monkeypatch.setattr(power, "IPMITOOL", "/nonexistent/ipmitool")
    with pytest.raises(PowerManagementError, match="install the Debian package ipmitool"):
        power_status(PowerSettings(agent="ipmilan", address="10.0.0.9"))


def test_it_keeps_the_password_out_of_the_settings_repr():
    assert "s3cret" not in repr(PowerSettings(agent="ipmilan", address="10.0.0.9", password="s3cret"))


# --- the host service --------------------------------------------------------


def host_with_bmc(bmc, **changes):
    values = dict(pm_enabled=True, pm_agent="ipmilan", pm_address=bmc.address, pm_port=bmc.port,
                  pm_username=bmc.username, pm_password_encrypted=encrypt_secret(bmc.password))
    values.update(changes)
    return HostFactory(**values)


@pytest.mark.django_db
def test_it_reads_a_hosts_settings_with_the_password_decrypted():
    host = HostFactory(pm_agent="ipmilan", pm_address="10.0.0.9", pm_port=6230, pm_username="root",
                       pm_password_encrypted=encrypt_secret("s3cret"), pm_options="privlvl=operator")
    assert host_power_settings(host) == PowerSettings(
        agent="ipmilan", address="10.0.0.9", port=6230, username="root", password="s3cret",
        options="privlvl=operator",
    )


@real
@pytest.mark.django_db
def test_it_tests_a_hosts_power_management_and_records_the_answer(bmc, admin):
    bmc.set_power_state("on")
    host = host_with_bmc(bmc)

    assert host_power_test(host=host, user=admin) == "on"

    event = Event.objects.get(code="host.power_test")
    assert event.severity == Severity.NORMAL and event.user == admin
    assert event.target_id == str(host.pk)
    assert event.message == (
        f"Power management of host {host.name} answers through BMC 127.0.0.1:{bmc.port}: power is on"
    )


@real
@pytest.mark.django_db
def test_it_records_a_failed_power_management_test_and_says_why(bmc, admin):
    host = host_with_bmc(bmc, pm_password_encrypted=encrypt_secret("wrong-password"))

    with pytest.raises(PowerManagementError):
        host_power_test(host=host, user=admin)

    event = Event.objects.get(code="host.power_test")
    assert event.severity == Severity.WARNING
    assert event.message == (
        f"Power management test of host {host.name} failed: "
        f"BMC 127.0.0.1:{bmc.port} refused the user name or password"
    )
    assert "wrong-password" not in event.message


@pytest.mark.django_db
def test_it_records_a_power_test_whose_password_no_longer_decrypts(admin, no_ipmitool_run):
    host = HostFactory(pm_agent="ipmilan", pm_address="10.0.0.9", pm_password_encrypted=encrypt_secret("s3cret"))

    with override_settings(FIELD_ENCRYPTION_KEY=Fernet.generate_key().decode()):
        with pytest.raises(SecretUnreadable):
            host_power_test(host=host, user=admin)

    event = Event.objects.get(code="host.power_test")
    assert event.severity == Severity.WARNING and "FIELD_ENCRYPTION_KEY has changed" in event.message


def test_it_scrubs_the_password_from_whatever_ipmitool_says():
    settings = PowerSettings(agent="ipmilan", address="10.0.0.9", username="root", password="hunter2")
    error = power._failure(settings, ["chassis", "power", "status"], "odd failure near hunter2\n", 1)
    assert "hunter2" not in error.detail and "***" in error.detail
