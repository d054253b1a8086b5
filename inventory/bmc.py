"""The BMC driver: a machine's baseboard management controller, reached with
ipmitool, for out-of-band power management.

Plain Python, no Django: it takes plain settings (never models), runs
ipmitool, reads its answers and raises its own errors (`BmcSettingsInvalid`
before anything runs, `BmcError` when the BMC fails us), so it is testable
alone. inventory/services/power.py reads a Host's settings, records events and
turns these errors into the portal's. Only IPMI over LAN (IPMI 2.0, "lanplus")
is implemented; Redfish is refused rather than faked.

ipmitool runs as an argument list (never a shell) with a minimal environment.
The password travels in IPMI_PASSWORD with `-E`, so it never appears in `ps`
or in /proc/<pid>/cmdline. `-C 3` is always given: without a cipher suite
ipmitool first asks the BMC for its list and waits 10 s on BMCs (ipmi_sim
among them) that do not answer that request.
"""

from __future__ import annotations

import ipaddress
import os
import re
import subprocess
from dataclasses import dataclass, field

from inventory.choices import PowerAgent  # plain Python too: the agents' names

IPMITOOL = "ipmitool"  # a module constant so tests can point it elsewhere
IPMITOOL_PACKAGE = "ipmitool"  # the Debian package that provides it
DEFAULT_IPMI_PORT = 623
DEFAULT_CIPHER_SUITE = 3  # RAKP-HMAC-SHA1 + AES-128: offered by every IPMI 2.0 BMC
DEFAULT_TIMEOUT_SECONDS = 10.0
ACTIONS = ("on", "off", "cycle", "reset")
PRIVILEGE_LEVELS = ("user", "operator", "administrator")
# IPMI 2.0 limits: user names are 16 bytes, passwords 20. ipmitool refuses a
# longer password itself, but only when it runs; saying so on input is clearer.
MAX_USERNAME_BYTES = 16
MAX_PASSWORD_BYTES = 20
OPTIONS_HELP = "allowed: lanplus, cipher=<0-17>, privlvl=user|operator|administrator"

_HOSTNAME_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_STATUS_ANSWER = re.compile(r"^Chassis Power is (on|off)\s*$", re.MULTILINE)
_COMMAND_REFUSED = re.compile(r"^Set Chassis Power Control to .* failed: (.*)$", re.MULTILINE)


class BmcSettingsInvalid(ValueError):
    """The settings cannot be used; nothing was run. The message says why."""


class BmcError(Exception):
    """The BMC could not be reached, refused us, or said something we do not
    understand. The message is one sentence naming the BMC, never the password."""


@dataclass(frozen=True)
class PowerSettings:
    agent: str
    address: str
    port: int | None = None  # None: the IPMI standard port, 623
    username: str = ""
    # repr=False: a settings object in a log line or a traceback must not
    # carry the password with it.
    password: str = field(default="", repr=False)
    options: str = ""

    @property
    def endpoint(self) -> str:
        """address:port as messages name the BMC (IPv6 in brackets)."""
        port = self.port or DEFAULT_IPMI_PORT
        return f"[{self.address}]:{port}" if ":" in self.address else f"{self.address}:{port}"


def power_options_parse(options: str) -> dict[str, str]:
    """The allow-listed options of a comma- or space-separated string, as
    {"cipher": "3", "privlvl": "operator", ...}. Raises BmcSettingsInvalid on
    anything else: each option becomes an ipmitool argument, so only values
    we know are passed on."""
    parsed: dict[str, str] = {}
    for item in re.split(r"[,\s]+", options.strip()):
        if not item:
            continue
        name, _, value = item.partition("=")
        name = name.lower()
        if name == "lanplus":
            # "lanplus=1" is how oVirt spells it; IPMI 1.5 ("lan") is not offered.
            if value not in ("", "1", "true", "yes", "on"):
                raise BmcSettingsInvalid(f"power management option {item!r}: only lanplus (IPMI 2.0) is supported")
            parsed["lanplus"] = ""
        elif name == "cipher":
            if not value.isdigit() or not 0 <= int(value) <= 17:
                raise BmcSettingsInvalid(f"power management option {item!r}: cipher must be a suite number 0-17")
            parsed["cipher"] = str(int(value))
        elif name == "privlvl":
            if value.lower() not in PRIVILEGE_LEVELS:
                raise BmcSettingsInvalid(
                    f"power management option {item!r}: privlvl must be one of {', '.join(PRIVILEGE_LEVELS)}"
                )
            parsed["privlvl"] = value.lower()
        else:
            raise BmcSettingsInvalid(f"unknown power management option {item!r}; {OPTIONS_HELP}")
    return parsed


def _address_is_valid(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
        return True
    except ValueError:
        pass
    if len(address) > 253:
        return False
    # A host name: letters, digits, hyphens and dots only, so no space, quote
    # or shell metacharacter can reach ipmitool (which would not run them,
    # but a name like that is a mistake worth saying out loud).
    return all(_HOSTNAME_LABEL.match(label) for label in address.rstrip(".").split("."))


def power_settings_validate(settings: PowerSettings) -> None:
    """Raise BmcSettingsInvalid unless `settings` can be used; runs nothing. The API
    checks before storing, power_status/power_action before every run."""
    if settings.agent == PowerAgent.REDFISH:
        raise BmcSettingsInvalid("power management agent redfish is not supported yet; use ipmilan")
    if settings.agent != PowerAgent.IPMILAN:
        raise BmcSettingsInvalid(f"unknown power management agent {settings.agent!r}; use ipmilan")
    if not settings.address:
        raise BmcSettingsInvalid("power management needs the BMC's address")
    if not _address_is_valid(settings.address):
        raise BmcSettingsInvalid(f"BMC address {settings.address!r} is neither a host name nor an IP address")
    port = settings.port
    if port is not None and (isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535):
        raise BmcSettingsInvalid(f"BMC port {port!r} is not a port number (1-65535)")
    if len(settings.username.encode()) > MAX_USERNAME_BYTES:
        raise BmcSettingsInvalid(f"IPMI user names have at most {MAX_USERNAME_BYTES} bytes")
    if any(ord(char) < 32 for char in settings.username):
        raise BmcSettingsInvalid("the IPMI user name contains control characters")
    if len(settings.password.encode()) > MAX_PASSWORD_BYTES:
        raise BmcSettingsInvalid(f"IPMI passwords have at most {MAX_PASSWORD_BYTES} bytes")
    if "\0" in settings.password:
        raise BmcSettingsInvalid("the IPMI password contains a NUL character")
    power_options_parse(settings.options)


def _ipmitool_call(settings: PowerSettings, words: list[str]) -> tuple[list[str], dict[str, str]]:
    """The argument list and environment of one ipmitool run."""
    options = power_options_parse(settings.options)
    argv = [
        IPMITOOL,
        "-v",  # only -v says *why* a session failed (bad password vs no answer)
        "-I", "lanplus",
        "-H", settings.address,
        "-p", str(settings.port or DEFAULT_IPMI_PORT),
        "-U", settings.username,
        "-E",
        "-C", options.get("cipher", str(DEFAULT_CIPHER_SUITE)),
    ]
    if "privlvl" in options:
        argv += ["-L", options["privlvl"].upper()]
    env = {
        "PATH": os.environ.get("PATH", os.defpath),
        "LC_ALL": "C",
        "IPMI_PASSWORD": settings.password,
    }
    return argv + words, env


def _failure(settings: PowerSettings, words: list[str], stderr: str, returncode: int) -> BmcError:
    """Turn ipmitool's complaint into one sentence saying what failed. With -v,
    stderr also carries chatter from probes that failed harmlessly (e.g.
    "Insufficient privilege level" for a vendor extension), so only the lines
    that decide the outcome are matched."""
    if settings.password:
        # ipmitool does not echo the password, but what it says reaches users
        # and events: make sure of it. Only its words are scrubbed, so a short
        # password cannot mangle our own sentence.
        stderr = stderr.replace(settings.password, "***")
    ep = settings.endpoint
    said = stderr.lower()
    refused = _COMMAND_REFUSED.search(stderr)
    if "rakp 2 hmac is invalid" in said or "unauthorized name" in said \
            or "invalid integrity check value" in said:
        detail = f"BMC {ep} refused the user name or password"
    elif "unauthorized role or privilege level" in said or "invalid role" in said:
        detail = (f"BMC {ep} refused the privilege level asked for user {settings.username!r}; "
                  f"lower it with the option privlvl=operator (or privlvl=user)")
    elif "invalid authentication algorithm" in said or "invalid integrity algorithm" in said \
            or "invalid confidentiality algorithm" in said or "no cipher suite match" in said:
        cipher = power_options_parse(settings.options).get("cipher", str(DEFAULT_CIPHER_SUITE))
        detail = f"BMC {ep} does not offer IPMI cipher suite {cipher}; choose another with the option cipher=<n>"
    elif "address lookup for" in said:
        detail = f"BMC address {settings.address} does not resolve"
    elif "get auth capabilities error" in said or "no response" in said:
        detail = f"no answer from BMC {ep}"
    elif refused:
        detail = f"BMC {ep} refused power {words[-1]} for user {settings.username!r}: {refused.group(1).strip()}"
        if "privilege" in refused.group(1).lower():
            detail += " (power control needs the operator or administrator level; see the option privlvl)"
    else:
        detail = f"ipmitool failed on BMC {ep} (exit status {returncode}): {_last_line(stderr) or 'no message'}"
    return BmcError(detail)


def _last_line(text: str) -> str:
    # -v chatter ("Loading IANA PEN Registry...") comes first; the verdict last.
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _run(settings: PowerSettings, words: list[str], timeout: float) -> str:
    power_settings_validate(settings)
    argv, env = _ipmitool_call(settings, words)
    try:
        proc = subprocess.run(
            argv, env=env, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
        )
    except FileNotFoundError:
        raise BmcError(
            f"{IPMITOOL} is not installed on the portal's machine: install the Debian package {IPMITOOL_PACKAGE}"
        ) from None
    except subprocess.TimeoutExpired:
        # subprocess.run has killed ipmitool by now: no retry is left running.
        raise BmcError(f"no answer from BMC {settings.endpoint} within {timeout:g} s") from None
    if proc.returncode != 0:
        raise _failure(settings, words, proc.stderr, proc.returncode)
    return proc.stdout


def power_status(settings: PowerSettings, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> str:
    """"on" or "off", as the BMC reports the chassis power."""
    out = _run(settings, ["chassis", "power", "status"], timeout)
    match = _STATUS_ANSWER.search(out)
    if not match:
        raise BmcError(
            f"BMC {settings.endpoint} gave a power status we do not understand: {_last_line(out)!r}"
        )
    return match.group(1)


def power_action(settings: PowerSettings, action: str, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> None:
    """Ask the BMC to power the chassis on, off (hard), cycle or reset it.
    Returns once the BMC accepted the command, not once the machine obeyed:
    read power_status to follow it."""
    if action not in ACTIONS:
        raise BmcSettingsInvalid(f"unknown power action {action!r}; one of {', '.join(ACTIONS)}")
    out = _run(settings, ["chassis", "power", action], timeout)
    if "Chassis Power Control:" not in out:
        raise BmcError(
            f"BMC {settings.endpoint} gave an answer we do not understand to power {action}: {_last_line(out)!r}"
        )
