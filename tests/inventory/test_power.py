"""Power management of a host (inventory/services/power.py): its stored
settings, the test action that leaves an Event, and the driver's errors
turned into the portal's."""

import pytest
from cryptography.fernet import Fernet
from django.test import override_settings

from core.errors import InvalidInput
from core.models import Event, Severity
from core.secrets import SecretUnreadable, encrypt_secret
from inventory import bmc as driver
from inventory.bmc import PowerSettings
from inventory.services.power import (
    PowerManagementError,
    host_power_fields,
    host_power_settings,
    host_power_test,
)
from tests.inventory.factories import HostFactory

real = pytest.mark.real


@pytest.fixture
def no_ipmitool_run(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError(f"ipmitool ran although the settings are invalid: {args}")

    monkeypatch.setattr(driver.subprocess, "run", refuse)


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


@pytest.mark.django_db
def test_it_gives_a_driver_failure_as_a_503_with_the_drivers_sentence(admin, monkeypatch):
    monkeypatch.setattr(driver, "IPMITOOL", "/nonexistent/ipmitool")
    host = HostFactory(pm_agent="ipmilan", pm_address="10.0.0.9")

    with pytest.raises(PowerManagementError) as caught:
        host_power_test(host=host, user=admin)

    assert caught.value.status_code == 503 and caught.value.code == "power_management_failed"
    assert "install the Debian package ipmitool" in caught.value.detail
    assert Event.objects.get(code="host.power_test").severity == Severity.WARNING


def test_it_refuses_bad_settings_as_invalid_input_before_saving(no_ipmitool_run):
    with pytest.raises(InvalidInput, match="agent redfish is not supported yet"):
        host_power_fields(given={"enabled": True, "agent": "redfish", "address": "10.0.0.9"})


def test_it_encrypts_a_given_password_and_checks_nothing_when_disabled_without_address():
    fields = host_power_fields(given={"password": "s3cret"})
    assert fields["pm_enabled"] is False and fields["pm_agent"] == "ipmilan"
    assert fields["pm_password_encrypted"] and "s3cret" not in fields["pm_password_encrypted"]
