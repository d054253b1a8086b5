"""First-boot personalisation (oVirt's Initial Run): checking the answers,
keeping them, and the config drive's life: built and uploaded to the VM's
storage domain through libvirt just before the first start, attached as a
CD-ROM for that start (vms.services.definition), and removed once the first
start has happened (detached from the definition, its volume deleted).

The OS type's family decides the drive: cloud-init NoCloud for Linux,
Autounattend.xml for Windows (vms.services.config_drive)."""

from __future__ import annotations

import base64
import binascii
import functools
import os
import re
import struct
import tempfile
import zoneinfo
from dataclasses import dataclass, replace

import yaml
from django.utils import timezone as django_timezone
from lxml import etree

import hypervisor
from core.events import event_record
from core.models import Severity
from core.secrets import decrypt_secret, encrypt_secret
from hypervisor import HypervisorError
from inventory.models import Host
from inventory.services.storage import storage_pool_name
from vms.choices import OsFamily
from vms.models import OperatingSystem, Vm, VmInitialization
from vms.services.config_drive import (
    CLOUD_CONFIG_HEADER,
    WINDOWS_TIMEZONES,
    FirstBoot,
    config_drive_files,
    config_drive_iso,
)

FIELD = "initialization"
HOSTNAME_MAX = 253
WINDOWS_NAME_MAX = 15  # NetBIOS
USER_NAME_MAX = 32
WINDOWS_USER_MAX = 20
PASSWORD_MIN, PASSWORD_MAX = 8, 128
KEYS_MAX = 32
KEYS_TEXT_MAX = 32 * 1024
CUSTOM_SCRIPT_MAX = 64 * 1024
SSH_KEY_TYPES = ("ssh-ed25519", "ssh-rsa", "ssh-dss", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
                 "ecdsa-sha2-nistp521", "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com")
_LABEL = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_LINUX_USER = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
_WINDOWS_USER_FORBIDDEN = set('"/\\[]:;|=,+*?<>@')
RESERVED_USERS = {"root", "daemon", "bin", "sys", "nobody"}


@dataclass(frozen=True)
class InitializationRequest:
    """The first-boot answers as given (API ``initialization``, the wizard's
    First boot section); ``hostname`` empty: the VM's name."""

    hostname: str = ""
    user_name: str = ""
    password: str = ""
    ssh_authorized_keys: str = ""
    timezone: str = ""
    custom_script: str = ""


@functools.cache
def timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def initialization_clean(init: InitializationRequest, *, vm_name: str, os_type: OperatingSystem,
                         has_os_disk: bool) -> tuple[InitializationRequest, list[str]]:
    """The answers with the hostname filled in, and what is wrong with them
    (each message names its field); the same rules for the wizard and the API."""
    problems: list[str] = []
    windows = os_type.family == OsFamily.WINDOWS
    if os_type.family not in (OsFamily.LINUX, OsFamily.WINDOWS):
        problems.append(f"{os_type.name} is neither a Linux nor a Windows OS type: there is no first-boot "
                        "configuration it reads. Choose its OS type, or leave first boot empty.")
    if not has_os_disk:
        problems.append("First boot personalises an installed OS: give the VM a disk from an image or a "
                        "template, or leave first boot empty.")
    hostname = init.hostname.strip() or hostname_from_name(vm_name)
    problems += _hostname_problems(hostname, windows, given=bool(init.hostname.strip()))
    user_name = init.user_name.strip()
    keys = ssh_keys_of(init.ssh_authorized_keys)
    if user_name:
        problems += _user_problems(user_name, windows)
        if not init.password and not keys:
            problems.append(f"User {user_name}: give a password or an SSH public key, or the user cannot log in.")
    elif init.password or keys:
        problems.append("A password or SSH keys need a user name: give the user they are for.")
    if init.password:
        problems += _password_problems(init.password)
    problems += _keys_problems(init.ssh_authorized_keys, windows)
    zone = init.timezone.strip()
    if zone:
        if zone not in timezones():
            problems.append(f"Time zone {zone!r} is unknown: give an IANA name such as Europe/Paris or UTC.")
        elif windows and zone not in WINDOWS_TIMEZONES:
            problems.append(f"Time zone {zone} has no Windows equivalent known here; choose a nearby one "
                            f"(for example {', '.join(sorted(WINDOWS_TIMEZONES)[:4])}...) or leave it empty.")
    problems += _custom_script_problems(init.custom_script, windows)
    cleaned = replace(init, hostname=hostname, user_name=user_name, timezone=zone,
                      ssh_authorized_keys="\n".join(keys))
    return cleaned, problems


def hostname_from_name(name: str) -> str:
    """The VM's name as a hostname: lower case, anything else than letters,
    digits, dots and dashes becoming a dash."""
    return re.sub(r"[^a-z0-9.-]", "-", name.strip().lower()).strip("-.")


def _hostname_problems(hostname: str, windows: bool, *, given: bool) -> list[str]:
    source = f"Hostname {hostname!r}" if given else f"The VM's name as hostname ({hostname!r})"
    if not hostname:
        return ["Give a hostname: the VM's name does not make one."]
    if windows:
        if "." in hostname or not _LABEL.match(hostname) or len(hostname) > WINDOWS_NAME_MAX:
            return [f"{source}: a Windows computer name is 1 to {WINDOWS_NAME_MAX} letters, digits and dashes "
                    "(no dots), not starting or ending with a dash."]
        if hostname.isdigit():
            return [f"{source}: a Windows computer name cannot be only digits."]
        return []
    if len(hostname) > HOSTNAME_MAX:
        return [f"{source} is {len(hostname)} characters long; a hostname has at most {HOSTNAME_MAX}."]
    bad = [label for label in hostname.split(".") if not _LABEL.match(label)]
    if bad:
        return [f"{source} is not a valid hostname (RFC 1123): each dot-separated part is 1 to 63 letters, "
                "digits and dashes, not starting or ending with a dash."]
    if hostname.split(".")[-1].isdigit():
        return [f"{source}: a hostname cannot end with an all-digit part (it would read as an IP address)."]
    return []


def _user_problems(user_name: str, windows: bool) -> list[str]:
    if windows:
        if (len(user_name) > WINDOWS_USER_MAX or any(c in _WINDOWS_USER_FORBIDDEN for c in user_name)
                or user_name.strip(". ") == "" or any(ord(c) < 32 for c in user_name)):
            return [f"User name {user_name!r}: a Windows user name has at most {WINDOWS_USER_MAX} characters, "
                    "none of \" / \\ [ ] : ; | = , + * ? < > @."]
        return []
    if not _LINUX_USER.match(user_name):
        return [f"User name {user_name!r}: use 1 to {USER_NAME_MAX} lower-case letters, digits, '_' or '-', "
                "starting with a letter or '_'."]
    if user_name in RESERVED_USERS:
        return [f"User name {user_name} is a system account; choose a user of your own."]
    return []


def _password_problems(password: str) -> list[str]:
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        return [f"The password must be {PASSWORD_MIN} to {PASSWORD_MAX} characters long."]
    if any(ord(c) < 32 or ord(c) == 127 for c in password):
        return ["The password must not contain control characters (tabs, line breaks...)."]
    return []


def ssh_keys_of(text: str) -> list[str]:
    """The keys given, one per line; blank lines and # comments left out."""
    return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]


def _keys_problems(text: str, windows: bool) -> list[str]:
    keys = ssh_keys_of(text)
    if keys and windows:
        return ["SSH keys are for Linux guests: a Windows guest takes a password."]
    if len(keys) > KEYS_MAX:
        return [f"{len(keys)} SSH keys were given; at most {KEYS_MAX}."]
    return [f"SSH key {number}: {problem}" for number, key in enumerate(keys, start=1)
            if (problem := ssh_key_problem(key))]


def ssh_key_problem(key: str) -> str:
    """What is wrong with one authorized_keys line ("" when nothing): its
    type is known and its base64 blob really is a key of that type."""
    parts = key.split()
    if len(parts) < 2:
        return "an SSH public key reads '<type> <base64 key> [comment]' (the contents of a .pub file)."
    kind, blob = parts[0], parts[1]
    if kind not in SSH_KEY_TYPES:
        if kind.startswith("-----BEGIN"):
            return "this is a private key; give the PUBLIC key (the .pub file), and keep the private one secret."
        return f"type {kind[:40]!r} is not an SSH public key type ({', '.join(SSH_KEY_TYPES[:3])}...)."
    try:
        raw = base64.b64decode(blob, validate=True)
        (length,) = struct.unpack(">I", raw[:4])
        embedded = raw[4:4 + length].decode("ascii")
    except (binascii.Error, struct.error, UnicodeDecodeError, ValueError):
        return "its key data is not valid base64 of an SSH key."
    if embedded != kind:
        return f"it says {kind} but its key data is a {embedded[:40]!r} key."
    return ""


def _custom_script_problems(script: str, windows: bool) -> list[str]:
    if not script:
        return []
    if len(script.encode()) > CUSTOM_SCRIPT_MAX:
        return [f"Extra user data is {len(script.encode())} bytes; at most {CUSTOM_SCRIPT_MAX} fit."]
    if windows:
        try:
            root = etree.fromstring(script.encode())
        except etree.XMLSyntaxError as error:
            return [f"Extra user data for Windows is a whole Autounattend.xml, and this is not well-formed XML: "
                    f"{error}"]
        if etree.QName(root).localname != "unattend":
            return ["Extra user data for Windows must be an <unattend> answer file (Autounattend.xml)."]
        return []
    if script.startswith(CLOUD_CONFIG_HEADER):
        try:
            parsed = yaml.safe_load(script)
        except yaml.YAMLError as error:
            return [f"Extra user data starts with #cloud-config but is not valid YAML: {error}"]
        if parsed is not None and not isinstance(parsed, dict):
            return ["Extra user data: a #cloud-config must be a YAML mapping (key: value lines)."]
        return []
    if script.startswith("#!"):
        return []
    return ["Extra user data must start with #cloud-config (cloud-init settings) or #! (a script to run once)."]


# ---- keeping the answers -----------------------------------------------------

def initialization_save(*, vm: Vm, init: InitializationRequest) -> VmInitialization:
    """Stored with the VM at its creation; the password only encrypted."""
    return VmInitialization.objects.create(
        vm=vm, hostname=init.hostname, user_name=init.user_name, password_secret=encrypt_secret(init.password),
        ssh_authorized_keys=init.ssh_authorized_keys, timezone=init.timezone, custom_script=init.custom_script,
    )


def pending_of(vm: Vm) -> VmInitialization | None:
    return VmInitialization.objects.filter(vm=vm, applied_at=None).first()


def first_boot_drive(vm: Vm) -> str | None:
    """The config drive's path while the first start has not happened: the
    definition attaches it then, never afterwards."""
    return VmInitialization.objects.filter(vm=vm, applied_at=None).exclude(drive_path="").values_list(
        "drive_path", flat=True).first()


def _first_boot(init: VmInitialization) -> FirstBoot:
    return FirstBoot(
        instance_id=f"iid-{init.vm.uuid}", hostname=init.hostname, user_name=init.user_name,
        password=decrypt_secret(init.password_secret), ssh_authorized_keys=tuple(ssh_keys_of(init.ssh_authorized_keys)),
        timezone=init.timezone, custom_script=init.custom_script,
    )


def drive_bytes(init: VmInitialization) -> bytes:
    windows = init.vm.os_type.family == OsFamily.WINDOWS
    return config_drive_iso(config_drive_files(_first_boot(init), windows=windows))


# ---- the drive's life around the first start ---------------------------------------

def initialization_prepare(*, vm: Vm, host: Host) -> None:
    """Before the first start: the drive, built from the stored answers,
    uploaded through ``host``'s libvirt into the storage domain of the VM's
    boot disk (a drive left by a failed start is replaced)."""
    init = pending_of(vm)
    if init is None:
        initialization_discard(vm=vm, uri=host.uri)  # a drive a failed clean-up left behind
        return
    disk = vm.disks.select_related("storage_domain").order_by("-bootable", "index").first()
    if disk is None:
        return
    name = f"vm-{vm.uuid}-firstboot.iso"
    if init.drive_path:
        hypervisor.delete_volume(host.uri, init.drive_path)
    data = drive_bytes(init)
    with tempfile.NamedTemporaryFile(prefix="firstboot-", suffix=".iso") as handle:
        handle.write(data)
        handle.flush()
        info = hypervisor.upload_volume(host.uri, storage_pool_name(disk.storage_domain), name,
                                        source_file=handle.name, capacity_bytes=len(data), format="iso")
    VmInitialization.objects.filter(pk=init.pk).update(drive_path=info.path)


def initialization_finish(*, vm: Vm, host: Host) -> None:
    """After the first start: the drive leaves the definition (the running
    guest keeps the disc it opened until it powers off) and its volume is
    deleted, so no later start sees it."""
    from vms.services.definition import vm_domain_spec  # definition reads first_boot_drive from here

    init = pending_of(vm)
    if init is None:
        return
    VmInitialization.objects.filter(pk=init.pk).update(applied_at=django_timezone.now())
    try:
        hypervisor.define_domain(host.uri, vm_domain_spec(vm, host))
    except HypervisorError as error:
        # The VM is up, which is what the start was for; the next start
        # defines it from its rows again, without the drive.
        event_record(code="vm.firstboot_drive_defined", severity=Severity.WARNING, target=vm,
                     message=f"VM {vm.name} keeps its first-boot drive in its definition until its next "
                             f"start: {error.message}")
        return
    initialization_discard(vm=vm, uri=host.uri)


def initialization_discard(*, vm: Vm, uri: str) -> None:
    """The drive's volume deleted (after the first start, and with the VM);
    a failure is said in an event and tried again with the VM's deletion."""
    init = VmInitialization.objects.filter(vm=vm).exclude(drive_path="").first()
    if init is None:
        return
    try:
        hypervisor.delete_volume(uri, init.drive_path)
    except HypervisorError as error:
        event_record(code="vm.firstboot_drive_left", severity=Severity.WARNING, target=vm,
                     message=f"The first-boot drive {os.path.basename(init.drive_path)} of VM {vm.name} "
                             f"could not be removed: {error.message}")
        return
    VmInitialization.objects.filter(pk=init.pk).update(drive_path="")
