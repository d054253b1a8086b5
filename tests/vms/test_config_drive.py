"""Config drives as built, read back with pycdlib: the volume label, the
files and what they say; cloud-init for Linux, Autounattend.xml for Windows."""

import base64
import io
import subprocess

import pycdlib
import yaml
from lxml import etree

from vms.services.config_drive import (
    UNATTEND_NS,
    FirstBoot,
    autounattend_xml,
    cloud_init_files,
    config_drive_files,
    config_drive_iso,
)

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIH+gajqgszj13I0xgl9zv6GClzJ9X5BywWTTIBHdL4Pb alice@laptop"


def read_iso(data: bytes) -> tuple[str, dict[str, bytes]]:
    """The volume label and every file by its Rock Ridge name."""
    iso = pycdlib.PyCdlib()
    iso.open_fp(io.BytesIO(data))
    label = iso.pvd.volume_identifier.decode().strip()
    files = {}
    for child in iso.list_children(rr_path="/"):
        if child.is_dot() or child.is_dotdot():
            continue
        name = child.rock_ridge.name().decode()
        out = io.BytesIO()
        iso.get_file_from_iso_fp(out, rr_path=f"/{name}")
        files[name] = out.getvalue()
    joliet = sorted(child.file_identifier().decode("utf-16-be") for child in iso.list_children(joliet_path="/")
                    if not (child.is_dot() or child.is_dotdot()))
    iso.close()
    return label, files | {"__joliet__": ",".join(joliet).encode()}


def test_a_linux_drive_is_an_iso_labelled_cidata_with_meta_data_and_user_data():
    first_boot = FirstBoot(instance_id="iid-1", hostname="web-7", user_name="alice", password="s3cret-pass",
                           ssh_authorized_keys=(KEY,), timezone="Europe/Paris")
    label, files = read_iso(config_drive_iso(config_drive_files(first_boot, windows=False)))
    assert label == "cidata"
    assert files["__joliet__"] == b"meta-data,user-data"
    assert yaml.safe_load(files["meta-data"]) == {"instance-id": "iid-1", "local-hostname": "web-7"}
    assert b"local-hostname: web-7\n" in files["meta-data"]  # as the tiny guest reads it
    user_data = files["user-data"].decode()
    assert user_data.startswith("#cloud-config\n")
    config = yaml.safe_load(user_data)
    assert config["hostname"] == "web-7" and config["timezone"] == "Europe/Paris"
    user = config["users"][1]
    assert user["name"] == "alice" and user["ssh_authorized_keys"] == [KEY] and user["lock_passwd"] is False
    assert "s3cret-pass" not in user_data, "the password is only on the drive as a crypt hash"
    assert user["passwd"].startswith("$6$")
    check = subprocess.run(["openssl", "passwd", "-6", "-salt", user["passwd"].split("$")[2], "s3cret-pass"],
                           capture_output=True, text=True, check=True)
    assert check.stdout.strip() == user["passwd"]
    assert config["ssh_pwauth"] is True


def test_a_fully_qualified_hostname_sets_the_short_name_and_the_fqdn():
    config = yaml.safe_load(cloud_init_files(FirstBoot(instance_id="i", hostname="web-7.example.org"))["user-data"])
    assert (config["hostname"], config["fqdn"]) == ("web-7", "web-7.example.org")
    assert "users" not in config, "no user given: the image's own users only"


def test_extra_user_data_rides_along_as_a_second_mime_part():
    script = "#!/bin/sh\necho hello > /tmp/hello\n"
    user_data = cloud_init_files(FirstBoot(instance_id="i", hostname="h", custom_script=script))["user-data"].decode()
    assert user_data.startswith("Content-Type: multipart/mixed")
    assert "Content-Type: text/cloud-config" in user_data and "Content-Type: text/x-shellscript" in user_data
    assert "hostname: h" in user_data and "echo hello" in user_data


def test_a_windows_drive_holds_autounattend_xml():
    first_boot = FirstBoot(instance_id="i", hostname="WEB7", user_name="alice", password="s3cret-pass",
                           timezone="Europe/Paris")
    label, files = read_iso(config_drive_iso(config_drive_files(first_boot, windows=True)))
    assert label == "cidata" and set(files) == {"Autounattend.xml", "__joliet__"}
    root = etree.fromstring(files["Autounattend.xml"])
    ns = {"u": UNATTEND_NS}
    assert root.xpath("string(//u:settings[@pass='specialize']//u:ComputerName)", namespaces=ns) == "WEB7"
    assert root.xpath("string(//u:TimeZone)", namespaces=ns) == "Romance Standard Time"
    account = root.xpath("//u:settings[@pass='oobeSystem']//u:LocalAccount", namespaces=ns)[0]
    assert account.xpath("string(u:Name)", namespaces=ns) == "alice"
    value = account.xpath("string(u:Password/u:Value)", namespaces=ns)
    assert base64.b64decode(value).decode("utf-16-le") == "s3cret-passPassword"
    assert b"s3cret-pass" not in files["Autounattend.xml"]


def test_a_windows_answer_file_given_whole_replaces_the_generated_one():
    given = '<?xml version="1.0"?><unattend xmlns="urn:schemas-microsoft-com:unattend"/>'
    assert autounattend_xml(FirstBoot(instance_id="i", hostname="W", custom_script=given)) == given.encode()
