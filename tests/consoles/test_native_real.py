"""Native client files on the real libvirtd: a remote-viewer file's one-time
password opens the guest's real QEMU VNC server (an RFB authentication, as a
viewer does it) until it expires, and not afterwards; a new download replaces
it; the server admits nobody before a file is downloaded. An RDP file for a
guest without a guest agent is refused, saying what to do."""

from __future__ import annotations

import configparser
import time

import pytest

from core.models import Event
from hypervisor.consoles import domain_console_address
from tests.consoles.rfb import vnc_password_works

pytestmark = [pytest.mark.real, pytest.mark.django_db]


def vv_of(response) -> dict[str, str]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/x-virt-viewer"
    assert response["Content-Disposition"].startswith('attachment; filename="')
    ini = configparser.RawConfigParser()
    ini.optionxform = str
    ini.read_string(response.content.decode())
    assert ini.sections() == ["virt-viewer"]
    return dict(ini["virt-viewer"])


def test_the_vv_files_password_opens_the_vnc_server_until_it_expires(api, real_vm, libvirtd, settings, alice):
    settings.CONSOLE_CLIENT_PASSWORD_SECONDS = 3
    vm = real_vm("vv", owner=alice)
    endpoint = domain_console_address(libvirtd, str(vm.uuid), "vnc")
    assert not vnc_password_works(endpoint.host, endpoint.port, "")  # locked from the start

    fields = vv_of(api.get(f"/api/v1/vms/{vm.pk}/console.vv"))
    assert set(fields) == {"type", "host", "port", "password", "delete-this-file", "title", "release-cursor",
                           "secure-attention"}
    assert fields["type"] == "vnc" and fields["delete-this-file"] == "1" and vm.name in fields["title"]
    assert (fields["host"], int(fields["port"])) == ("127.0.0.1", endpoint.port)
    assert len(fields["password"]) == 8 and str(vm.uuid) not in response_text(fields)

    assert vnc_password_works(fields["host"], int(fields["port"]), fields["password"])
    assert not vnc_password_works(fields["host"], int(fields["port"]), fields["password"][::-1])
    time.sleep(4)
    assert not vnc_password_works(fields["host"], int(fields["port"]), fields["password"])

    event = Event.objects.get(code="console.client_file")
    assert event.user.username == "admin" and event.target_id == str(vm.pk)
    assert fields["password"] not in event.message


def test_a_new_download_replaces_the_previous_files_password(logged_in, real_vm, settings):
    settings.CONSOLE_CLIENT_PASSWORD_SECONDS = 60
    vm = real_vm("vv-twice")
    first = vv_of(logged_in.get(f"/vms/{vm.pk}/console.vv"))
    second = vv_of(logged_in.get(f"/vms/{vm.pk}/console.vv"))
    assert first["password"] != second["password"]
    assert not vnc_password_works(first["host"], int(first["port"]), first["password"])
    assert vnc_password_works(second["host"], int(second["port"]), second["password"])
    assert Event.objects.filter(code="console.client_file").count() == 2


def response_text(fields: dict[str, str]) -> str:
    return "\n".join(fields.values())


def test_an_rdp_file_needs_the_guest_agent_and_says_so(api, real_vm):
    vm = real_vm("rdp-no-agent", windows=True)  # the tiny guest runs no guest agent
    answer = api.get(f"/api/v1/vms/{vm.pk}/console.rdp")
    assert answer.status_code == 409, answer.content
    detail = answer.json()["detail"]
    assert detail.startswith(f"The address of VM {vm.name} is not known: The guest agent")
    assert "Install the QEMU guest agent in Windows" in detail
