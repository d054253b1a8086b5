"""Power management of hosts: the Host's stored BMC settings (the password
encrypted at rest), the "Test" action that leaves an Event, and the checks
before settings are saved. Talking to the BMC is inventory/bmc.py's job; its
errors become the portal's here (bad settings: InvalidInput, 400; a BMC that
fails us: PowerManagementError, 503)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from core.errors import InvalidInput, PortalError
from core.events import event_record
from core.models import Severity
from core.secrets import decrypt_secret, encrypt_secret
from inventory import bmc
from inventory.bmc import DEFAULT_TIMEOUT_SECONDS, PowerSettings
from inventory.choices import PowerAgent


class PowerManagementError(PortalError):
    """The BMC could not be reached, refused us, or said something we do not
    understand. 503 like an unreachable hypervisor: a machine we depend on
    is not cooperating, nothing the client sent is wrong."""

    status_code = 503
    code = "power_management_failed"


@contextmanager
def bmc_errors() -> Iterator[None]:
    """The driver's errors as the portal's, with the driver's sentence."""
    try:
        yield
    except bmc.BmcSettingsInvalid as error:
        raise InvalidInput(str(error)) from None
    except bmc.BmcError as error:
        raise PowerManagementError(str(error)) from None


def host_power_settings(host) -> PowerSettings:
    """The power settings stored on a Host, with its password decrypted."""
    return PowerSettings(
        agent=host.pm_agent,
        address=host.pm_address,
        port=host.pm_port,
        username=host.pm_username,
        password=decrypt_secret(host.pm_password_encrypted),
        options=host.pm_options,
    )


def host_power_test(*, host, user, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> str:
    """Read the host's power status through its BMC and leave an Event with
    the answer. Works whether or not power management is enabled yet: testing
    is how an admin checks the settings before enabling them. A failure is
    recorded as well, then raised for the interface to show."""
    try:
        settings = host_power_settings(host)
        with bmc_errors():
            status = bmc.power_status(settings, timeout=timeout)
    except PortalError as error:
        event_record(
            code="host.power_test",
            message=f"Power management test of host {host.name} failed: {error.detail}",
            severity=Severity.WARNING,
            user=user,
            target=host,
        )
        raise
    event_record(
        code="host.power_test",
        message=f"Power management of host {host.name} answers through BMC {settings.endpoint}: power is {status}",
        user=user,
        target=host,
    )
    return status


def host_power_fields(*, given: dict, host=None) -> dict:
    """The Host's pm_* fields for power settings sent by a client. A password
    left out keeps the stored one, an empty one clears it; settings that are
    enabled, or name an address, are checked before anything is saved."""
    current = host_power_settings(host) if host is not None else PowerSettings(agent="", address="")
    password = given.get("password", current.password)
    settings = PowerSettings(
        agent=given.get("agent", current.agent) or PowerAgent.IPMILAN,
        address=given.get("address", current.address),
        port=given.get("port", current.port),
        username=given.get("username", current.username),
        password=password,
        options=given.get("options", current.options),
    )
    enabled = given.get("enabled", host.pm_enabled if host is not None else False)
    if enabled or settings.address:
        with bmc_errors():
            bmc.power_settings_validate(settings)
    if "password" in given:
        encrypted = encrypt_secret(password) if password else ""
    else:  # kept as stored: encrypting again would differ and read as a change
        encrypted = host.pm_password_encrypted if host is not None else ""
    return {
        "pm_enabled": enabled,
        "pm_agent": settings.agent,
        "pm_address": settings.address,
        "pm_port": settings.port,
        "pm_username": settings.username,
        "pm_password_encrypted": encrypted,
        "pm_options": settings.options,
    }
