"""Config drives: the first-boot answers as the files a guest reads at its
first start, on an ISO9660 volume built in Python (pycdlib).

Linux guests get a cloud-init NoCloud drive (volume id ``cidata``, files
``meta-data`` and ``user-data``); Windows guests get ``Autounattend.xml`` on
the same kind of drive, which Windows Setup looks for on removable media.
Nothing here touches a host: the bytes go to the storage domain through
libvirt (vms.services.initialization)."""

from __future__ import annotations

import base64
import io
import subprocess
from dataclasses import dataclass
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

import pycdlib
import yaml
from lxml import etree

VOLUME_LABEL = "cidata"
CLOUD_CONFIG_HEADER = "#cloud-config"
UNATTEND_NS = "urn:schemas-microsoft-com:unattend"
WCM_NS = "http://schemas.microsoft.com/WMIConfig/2002/State"
# IANA zone -> Windows time zone id, for the zones Windows Setup is told here
# (Autounattend's TimeZone takes Windows ids only).
WINDOWS_TIMEZONES = {
    "UTC": "UTC", "Etc/UTC": "UTC", "Europe/London": "GMT Standard Time",
    "Europe/Dublin": "GMT Standard Time", "Europe/Lisbon": "GMT Standard Time",
    "Europe/Paris": "Romance Standard Time", "Europe/Brussels": "Romance Standard Time",
    "Europe/Madrid": "Romance Standard Time", "Europe/Berlin": "W. Europe Standard Time",
    "Europe/Amsterdam": "W. Europe Standard Time", "Europe/Rome": "W. Europe Standard Time",
    "Europe/Vienna": "W. Europe Standard Time", "Europe/Zurich": "W. Europe Standard Time",
    "Europe/Stockholm": "W. Europe Standard Time", "Europe/Oslo": "W. Europe Standard Time",
    "Europe/Prague": "Central Europe Standard Time", "Europe/Budapest": "Central Europe Standard Time",
    "Europe/Warsaw": "Central European Standard Time", "Europe/Athens": "GTB Standard Time",
    "Europe/Bucharest": "GTB Standard Time", "Europe/Helsinki": "FLE Standard Time",
    "Europe/Kiev": "FLE Standard Time", "Europe/Kyiv": "FLE Standard Time", "Europe/Istanbul": "Turkey Standard Time",
    "Europe/Moscow": "Russian Standard Time", "America/New_York": "Eastern Standard Time",
    "America/Toronto": "Eastern Standard Time", "America/Chicago": "Central Standard Time",
    "America/Denver": "Mountain Standard Time", "America/Phoenix": "US Mountain Standard Time",
    "America/Los_Angeles": "Pacific Standard Time", "America/Anchorage": "Alaskan Standard Time",
    "Pacific/Honolulu": "Hawaiian Standard Time", "America/Sao_Paulo": "E. South America Standard Time",
    "America/Mexico_City": "Central Standard Time (Mexico)", "Asia/Tokyo": "Tokyo Standard Time",
    "Asia/Seoul": "Korea Standard Time", "Asia/Shanghai": "China Standard Time",
    "Asia/Hong_Kong": "China Standard Time", "Asia/Singapore": "Singapore Standard Time",
    "Asia/Kolkata": "India Standard Time", "Asia/Dubai": "Arabian Standard Time",
    "Asia/Jerusalem": "Israel Standard Time", "Australia/Sydney": "AUS Eastern Standard Time",
    "Australia/Melbourne": "AUS Eastern Standard Time", "Australia/Perth": "W. Australia Standard Time",
    "Pacific/Auckland": "New Zealand Standard Time", "Africa/Johannesburg": "South Africa Standard Time",
    "Africa/Cairo": "Egypt Standard Time",
}


@dataclass(frozen=True)
class FirstBoot:
    """The answers a drive is made of (the password in clear, in memory only)."""

    instance_id: str
    hostname: str
    user_name: str = ""
    password: str = ""
    ssh_authorized_keys: tuple[str, ...] = ()
    timezone: str = ""
    custom_script: str = ""


# ---- Linux: cloud-init NoCloud ------------------------------------------------

def password_hash(password: str) -> str:
    """SHA-512 crypt, as /etc/shadow keeps it: the drive never holds the password in clear."""
    done = subprocess.run(["openssl", "passwd", "-6", "-stdin"], input=password, capture_output=True,
                          text=True, check=True, timeout=30)
    return done.stdout.strip()


def cloud_init_files(first_boot: FirstBoot) -> dict[str, bytes]:
    """``meta-data`` and ``user-data``; extra user data (a ``#cloud-config``
    or a ``#!`` script) rides along as a second MIME part, which cloud-init
    runs after (or merges with) the portal's own cloud-config."""
    meta = {"instance-id": first_boot.instance_id, "local-hostname": first_boot.hostname}
    config: dict = {"hostname": first_boot.hostname.split(".")[0], "preserve_hostname": False}
    if "." in first_boot.hostname:
        config["fqdn"] = first_boot.hostname
    if first_boot.timezone:
        config["timezone"] = first_boot.timezone
    if first_boot.user_name:
        user: dict = {"name": first_boot.user_name, "groups": ["sudo"], "shell": "/bin/bash",
                      "sudo": "ALL=(ALL) NOPASSWD:ALL", "lock_passwd": not first_boot.password}
        if first_boot.password:
            user["passwd"] = password_hash(first_boot.password)
        if first_boot.ssh_authorized_keys:
            user["ssh_authorized_keys"] = list(first_boot.ssh_authorized_keys)
        config["users"] = ["default", user]
        config["ssh_pwauth"] = bool(first_boot.password)
    portal_config = CLOUD_CONFIG_HEADER + "\n" + yaml.safe_dump(config, sort_keys=False, default_flow_style=False)
    user_data = portal_config
    if first_boot.custom_script:
        user_data = _multipart(portal_config, first_boot.custom_script)
    return {
        "meta-data": yaml.safe_dump(meta, sort_keys=False).encode(),
        "user-data": user_data.encode(),
    }


def _multipart(portal_config: str, custom: str) -> str:
    message = MIMEMultipart()
    message.attach(MIMEText(portal_config, "cloud-config"))
    kind = "cloud-config" if custom.startswith(CLOUD_CONFIG_HEADER) else "x-shellscript"
    message.attach(MIMEText(custom, kind))
    return message.as_string()


# ---- Windows: Autounattend.xml -------------------------------------------------

def autounattend_xml(first_boot: FirstBoot) -> bytes:
    """The answer file Windows Setup reads from removable media: computer
    name and time zone (specialize), the local administrator account
    (oobeSystem). Extra user data, when given, is a whole answer file of its
    own and replaces this one."""
    if first_boot.custom_script:
        return first_boot.custom_script.encode()
    root = etree.Element(f"{{{UNATTEND_NS}}}unattend", nsmap={None: UNATTEND_NS, "wcm": WCM_NS})
    specialize = _shell_setup(root, "specialize")
    _text(specialize, "ComputerName", first_boot.hostname)
    if first_boot.timezone:
        _text(specialize, "TimeZone", WINDOWS_TIMEZONES[first_boot.timezone])
    oobe = _shell_setup(root, "oobeSystem")
    oobe_settings = etree.SubElement(oobe, f"{{{UNATTEND_NS}}}OOBE")
    for name, value in (("HideEULAPage", "true"), ("HideOnlineAccountScreens", "true"),
                        ("HideWirelessSetupInOOBE", "true"), ("ProtectYourPC", "3")):
        _text(oobe_settings, name, value)
    if first_boot.user_name:
        accounts = etree.SubElement(etree.SubElement(oobe, f"{{{UNATTEND_NS}}}UserAccounts"),
                                    f"{{{UNATTEND_NS}}}LocalAccounts")
        account = etree.SubElement(accounts, f"{{{UNATTEND_NS}}}LocalAccount",
                                   {f"{{{WCM_NS}}}action": "add"})
        _text(account, "Name", first_boot.user_name)
        _text(account, "Group", "Administrators")
        if first_boot.password:
            password = etree.SubElement(account, f"{{{UNATTEND_NS}}}Password")
            # Setup's own encoding (base64 of the password + "Password"): not
            # secret, but never the password as typed.
            _text(password, "Value", base64.b64encode(
                (first_boot.password + "Password").encode("utf-16-le")).decode())
            _text(password, "PlainText", "false")
    return etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)


def _shell_setup(root: etree._Element, settings_pass: str) -> etree._Element:
    settings = etree.SubElement(root, f"{{{UNATTEND_NS}}}settings", {"pass": settings_pass})
    return etree.SubElement(settings, f"{{{UNATTEND_NS}}}component", {
        "name": "Microsoft-Windows-Shell-Setup", "processorArchitecture": "amd64",
        "publicKeyToken": "31bf3856ad364e35", "language": "neutral", "versionScope": "nonSxS",
    })


def _text(parent: etree._Element, name: str, value: str) -> None:
    etree.SubElement(parent, f"{{{UNATTEND_NS}}}{name}").text = value


# ---- the ISO ---------------------------------------------------------------------

def config_drive_iso(files: dict[str, bytes]) -> bytes:
    """An ISO9660 volume labelled ``cidata`` holding ``files`` at its root,
    with Rock Ridge and Joliet names so every reader sees them as named
    (``meta-data``, ``Autounattend.xml``), not as 8.3 upper-case names."""
    iso = pycdlib.PyCdlib()
    iso.new(interchange_level=3, joliet=3, rock_ridge="1.09", vol_ident=VOLUME_LABEL)
    for index, (name, data) in enumerate(sorted(files.items())):
        iso.add_fp(io.BytesIO(data), len(data), f"/FILE{index}.;1", rr_name=name, joliet_path=f"/{name}")
    out = io.BytesIO()
    iso.write_fp(out)
    iso.close()
    return out.getvalue()


def config_drive_files(first_boot: FirstBoot, *, windows: bool) -> dict[str, bytes]:
    if windows:
        return {"Autounattend.xml": autounattend_xml(first_boot)}
    return cloud_init_files(first_boot)
