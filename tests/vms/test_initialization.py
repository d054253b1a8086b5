"""First boot through POST /api/v1/vms/ in the fast lane: every answer is
checked with a clear 400 under ``initialization`` and nothing created; the
password is stored encrypted and never shown back; the definition carries the
config drive only until the first start has happened."""

import pytest
from django.utils import timezone

from core.secrets import decrypt_secret
from inventory.choices import ImageContent, ImageStatus
from inventory.models import Image
from core.models import Job
from tests.vms.factories import OperatingSystemFactory, vm_world
from vms.models import Vm, VmInitialization
from vms.services.definition import vm_domain_spec
from vms.services.initialization import hostname_from_name, ssh_key_problem

pytestmark = pytest.mark.django_db
GIB = 1024**3
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIH+gajqgszj13I0xgl9zv6GClzJ9X5BywWTTIBHdL4Pb alice@laptop"


@pytest.fixture
def world(db):
    world = vm_world()
    world["image"] = Image.objects.create(
        name="cloud.qcow2", storage_domain=world["domain"], content=ImageContent.DISK, format="qcow2",
        status=ImageStatus.OK, virtual_size_bytes=GIB, path="/srv/images/cloud.qcow2")
    OperatingSystemFactory(short_id="win2k22", name="Windows Server 2022", family="windows")
    OperatingSystemFactory(short_id="other", name="Other OS", family="other")
    return world


def body(world, os_type="debian11", **initialization):
    return {
        "name": "Web 7", "cluster": world["cluster"].pk, "os_type": os_type, "memory_mb": 1024,
        "disks": [{"storage_domain": world["domain"].pk, "image": world["image"].pk}],
        "initialization": initialization,
    }


def refused(api, data) -> str:
    response = api.post("/api/v1/vms/", data, format="json")
    assert response.status_code == 400, response.content
    assert not Vm.objects.exists() and not Job.objects.exists()
    return " ".join(response.json()["initialization"])


def test_it_keeps_the_answers_and_never_shows_the_password_back(api, world):
    response = api.post("/api/v1/vms/", body(world, hostname="web-7", user_name="alice", password="s3cret-pass",
                                             ssh_authorized_keys=KEY + "\n\n", timezone="Europe/Paris"), format="json")
    assert response.status_code == 202, response.content
    shown = response.json()["vm"]["initialization"]
    assert shown["hostname"] == "web-7" and shown["user_name"] == "alice" and shown["timezone"] == "Europe/Paris"
    assert shown["ssh_authorized_keys"] == KEY
    assert shown["password_set"] is True and shown["applied_at"] is None
    assert "password" not in shown and "s3cret-pass" not in response.content.decode()
    vm = Vm.objects.get()
    detail = api.get(f"/api/v1/vms/{vm.pk}/").content.decode()
    assert '"password_set":true' in detail and "s3cret-pass" not in detail
    stored = VmInitialization.objects.get(vm=vm)
    assert stored.password_secret != "s3cret-pass" and decrypt_secret(stored.password_secret) == "s3cret-pass"


def test_the_hostname_defaults_to_the_vms_name(api, world):
    response = api.post("/api/v1/vms/", body(world, user_name="alice", ssh_authorized_keys=KEY), format="json")
    assert response.json()["vm"]["initialization"]["hostname"] == "web-7"
    assert hostname_from_name("DB_server 2") == "db-server-2"


def test_a_vm_without_first_boot_says_null(api, world):
    data = body(world)
    del data["initialization"]
    assert api.post("/api/v1/vms/", data, format="json").json()["vm"]["initialization"] is None


@pytest.mark.parametrize("answers, words", [
    ({"hostname": "web_7"}, "not a valid hostname"),
    ({"hostname": "-web"}, "not a valid hostname"),
    ({"hostname": "a" * 64}, "not a valid hostname"),
    ({"hostname": "web.123"}, "all-digit"),
    ({"user_name": "alice"}, "give a password or an SSH public key"),
    ({"password": "s3cret-pass"}, "need a user name"),
    ({"user_name": "root", "password": "s3cret-pass"}, "system account"),
    ({"user_name": "Alice!", "password": "s3cret-pass"}, "lower-case letters"),
    ({"user_name": "alice", "password": "short"}, "8 to 128"),
    ({"user_name": "alice", "ssh_authorized_keys": "AAAAC3Nza alice"}, "not an SSH public key type"),
    ({"user_name": "alice", "ssh_authorized_keys": "-----BEGIN OPENSSH PRIVATE KEY----- abc"}, "private key"),
    ({"user_name": "alice", "ssh_authorized_keys": "ssh-rsa " + KEY.split()[1]}, "its key data is a 'ssh-ed25519'"),
    ({"user_name": "alice", "ssh_authorized_keys": "ssh-ed25519 not@base64"}, "not valid base64"),
    ({"timezone": "Mars/Olympus"}, "unknown"),
    ({"custom_script": "echo hi"}, "must start with #cloud-config"),
    ({"custom_script": "#cloud-config\nusers: [unclosed"}, "not valid YAML"),
    ({"custom_script": "#cloud-config\n- a list"}, "YAML mapping"),
])
def test_it_refuses_bad_answers_naming_what_is_wrong(api, world, answers, words):
    assert words in refused(api, body(world, **answers))


def test_windows_rules(api, world):
    assert "Windows computer name" in refused(api, body(world, "win2k22", hostname="web-server-number-7"))
    assert "Windows computer name" in refused(api, body(world, "win2k22", hostname="web.example"))
    assert "SSH keys are for Linux" in refused(api, body(world, "win2k22", hostname="web7", user_name="alice",
                                                          ssh_authorized_keys=KEY))
    assert "no Windows equivalent" in refused(api, body(world, "win2k22", hostname="web7", timezone="Asia/Kathmandu"))
    assert "not well-formed XML" in refused(api, body(world, "win2k22", hostname="web7", custom_script="<unattend"))
    response = api.post("/api/v1/vms/", body(world, "win2k22", hostname="WEB7", user_name="Admin User",
                                             password="s3cret-pass", timezone="Europe/Paris"), format="json")
    assert response.status_code == 202, response.content


def test_it_refuses_an_os_type_that_reads_no_config_and_a_vm_without_an_os(api, world):
    assert "neither a Linux nor a Windows" in refused(api, body(world, "other", hostname="web7"))
    data = body(world, hostname="web7")
    data["disks"] = [{"size_gb": 2, "storage_domain": world["domain"].pk}]
    assert "disk from an image or a template" in refused(api, data)


def test_a_long_password_is_refused_by_its_declared_length(api, world):
    response = api.post("/api/v1/vms/", body(world, user_name="alice", password="x" * 129), format="json")
    assert response.status_code == 400 and "password" in response.json()["initialization"]


def test_ssh_key_problem_accepts_real_keys():
    assert ssh_key_problem(KEY) == ""
    assert "reads '<type> <base64 key>" in ssh_key_problem("ssh-ed25519")


def test_the_definition_carries_the_drive_until_the_first_start_has_happened(api, world):
    api.post("/api/v1/vms/", body(world, hostname="web-7"), format="json")
    vm = Vm.objects.get()
    host = world["hosts"][0]

    def cdroms():
        return [(d.path, d.bus) for d in vm_domain_spec(vm, host).disks if d.device == "cdrom"]

    assert cdroms() == [], "no drive uploaded yet"
    VmInitialization.objects.filter(vm=vm).update(drive_path="/srv/data/vm-x-firstboot.iso")
    assert cdroms() == [("/srv/data/vm-x-firstboot.iso", "ide")]
    VmInitialization.objects.filter(vm=vm).update(applied_at=timezone.now())
    assert cdroms() == []


def test_the_vm_page_says_what_the_first_boot_gives_and_never_the_password(client, admin, api, world):
    api.post("/api/v1/vms/", body(world, hostname="web-7", user_name="alice", password="s3cret-pass"), format="json")
    vm = Vm.objects.get()
    client.force_login(admin)
    page = client.get(f"/vms/{vm.pk}/").content.decode()
    assert "First boot" in page and "web-7" in page and "user alice" in page
    assert "a config drive at the first start" in page and "s3cret-pass" not in page
    VmInitialization.objects.filter(vm=vm).update(applied_at=timezone.now())
    assert "given at the first start" in client.get(f"/vms/{vm.pk}/").content.decode()
