"""RDP files for Windows guests: the address comes from the guest agent
(libvirt's test driver answers for its simulated agent); other guests, and a
Windows guest without an agent answering (the real tiny guest has none), get
a 409 that says what to do."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from core.models import Event
from hypervisor import get_connection
from tests.vms.factories import OperatingSystemFactory
from tests.vms.test_views import grant, make_vm, messages_of, running_on_simulated_host
from vms.choices import VmStatus
from vms.services.definition import vm_domain_spec

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def catalogue():
    OperatingSystemFactory(short_id="linux-generic", name="Linux")
    OperatingSystemFactory(short_id="win2k22", name="Windows Server 2022", family="windows")


def api_as(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def on_the_simulated_host(vm, host) -> None:
    """Run it with its NIC's libvirt network there: the test driver's agent answers
    from the network's DHCP range (and crashes on a network without one)."""
    for nic in vm_domain_spec(vm, host).nics:
        get_connection(host.uri).networkCreateXML(
            f"<network><name>{nic.network}</name><bridge name='virbr-{nic.network[-6:]}'/>"
            "<ip address='192.168.122.1' netmask='255.255.255.0'><dhcp>"
            "<range start='192.168.122.2' end='192.168.122.254'/></dhcp></ip></network>")
    running_on_simulated_host(vm, host)


def test_a_windows_guest_gets_a_file_pointing_at_its_agents_address(cluster, host, network, alice):
    vm = make_vm(cluster, "win1", os_type="win2k22", status=VmStatus.UP, host=host, owner=alice, nics=[network])
    on_the_simulated_host(vm, host)
    answer = api_as(alice).get(f"/api/v1/vms/{vm.pk}/console.rdp")
    assert answer.status_code == 200, answer.content
    assert answer["Content-Type"] == "application/x-rdp"
    assert answer["Content-Disposition"] == 'attachment; filename="win1.rdp"'
    lines = answer.content.decode().split("\r\n")
    assert lines[0] == "full address:s:192.168.122.3:3389"  # what the test driver's agent reports
    assert "prompt for credentials:i:1" in lines
    assert "password" not in answer.content.decode()
    assert Event.objects.get(code="console.client_file").message == (
        "alice downloaded an RDP file for VM win1 (192.168.122.3) from 127.0.0.1.")


def test_other_guests_and_stopped_vms_are_told_why(cluster, host, alice):
    linux = make_vm(cluster, "web1", status=VmStatus.UP, host=host, owner=alice)
    running_on_simulated_host(linux, host)
    down = make_vm(cluster, "win-down", os_type="win2k22", owner=alice)
    api = api_as(alice)

    answer = api.get(f"/api/v1/vms/{linux.pk}/console.rdp")
    assert answer.status_code == 409 and "not Windows: RDP files are for Windows guests" in answer.json()["detail"]
    answer = api.get(f"/api/v1/vms/{down.pk}/console.rdp")
    assert answer.status_code == 409 and answer.json()["detail"] == "VM win-down is down: RDP needs it running."


def test_a_windows_guest_with_no_address_yet_is_told_to_try_again(cluster, host, alice):
    vm = make_vm(cluster, "win-nonic", os_type="win2k22", status=VmStatus.UP, host=host, owner=alice)
    running_on_simulated_host(vm, host)
    answer = api_as(alice).get(f"/api/v1/vms/{vm.pk}/console.rdp")
    assert answer.status_code == 409 and "reports no network address yet" in answer.json()["detail"]


def test_the_rdp_file_is_the_consoles_to_give(client, cluster, host, network, alice, bob, charlie):
    vm = make_vm(cluster, "win1", os_type="win2k22", status=VmStatus.UP, host=host, owner=alice, nics=[network])
    on_the_simulated_host(vm, host)
    grant(bob, ["view"], vm)
    assert api_as(bob).get(f"/api/v1/vms/{vm.pk}/console.rdp").status_code == 403
    assert api_as(charlie).get(f"/api/v1/vms/{vm.pk}/console.rdp").status_code == 404
    client.force_login(bob)
    page = client.get(reverse("consoles:vm-console-rdp", args=[vm.pk]), follow=True)
    assert messages_of(page) == ["You may not open the console of VM win1."]
    grant(bob, ["console"], vm)
    assert client.get(reverse("consoles:vm-console-rdp", args=[vm.pk]))["Content-Type"] == "application/x-rdp"
