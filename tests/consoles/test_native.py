"""remote-viewer files, the rules that need no real QEMU: who may download
one (the console's rule), when there is nothing to open, and which address
a client is told. The password itself is tested on a real VNC server in
test_native_real.py."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from consoles.native import client_address
from core.errors import Conflict
from core.models import Event
from hypervisor.consoles import ConsoleAddress
from tests.inventory.factories import HostFactory
from tests.vms.factories import OperatingSystemFactory
from tests.vms.test_views import grant, make_vm, messages_of, running_on_simulated_host
from vms.choices import VmStatus

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def catalogue():
    OperatingSystemFactory(short_id="linux-generic", name="Linux")


def api_as(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_it_refuses_the_file_to_a_viewer_and_hides_the_vm_from_a_stranger(client, cluster, host, alice, bob, charlie):
    vm = make_vm(cluster, "web1", status=VmStatus.UP, host=host, owner=alice)
    running_on_simulated_host(vm, host)
    grant(bob, ["view"], vm)

    refused = api_as(bob).get(f"/api/v1/vms/{vm.pk}/console.vv")
    assert refused.status_code == 403
    assert refused.json() == {"code": "permission_denied", "detail": "You may not open the console of VM web1."}
    assert api_as(charlie).get(f"/api/v1/vms/{vm.pk}/console.vv").status_code == 404

    client.force_login(bob)
    page = client.get(reverse("consoles:vm-console-vv", args=[vm.pk]), follow=True)
    assert page.redirect_chain[-1][0] == reverse("vms:vm-detail", args=[vm.pk])
    assert messages_of(page) == ["You may not open the console of VM web1."]
    assert not Event.objects.filter(code="console.client_file").exists()


def test_it_says_why_there_is_nothing_to_open(cluster, host, alice):
    down = make_vm(cluster, "idle", owner=alice)
    headless = make_vm(cluster, "batch", status=VmStatus.UP, host=host, owner=alice, console="none")
    running_on_simulated_host(headless, host)
    api = api_as(alice)

    answer = api.get(f"/api/v1/vms/{down.pk}/console.vv")
    assert answer.status_code == 409 and "idle is down" in answer.json()["detail"]
    answer = api.get(f"/api/v1/vms/{headless.pk}/console.vv")
    assert answer.status_code == 409 and "headless" in answer.json()["detail"]


def test_a_console_without_a_port_is_a_409_not_a_file(cluster, host, alice):
    # libvirt's test driver never gives a VNC server a port (nor sets passwords).
    vm = make_vm(cluster, "web1", status=VmStatus.UP, host=host, owner=alice)
    running_on_simulated_host(vm, host)
    answer = api_as(alice).get(f"/api/v1/vms/{vm.pk}/console.vv")
    assert answer.status_code == 409, answer.content
    assert answer.json()["detail"].startswith("The console of VM web1 cannot be opened now:")
    assert "no port" in answer.json()["detail"]


@pytest.mark.parametrize("uri, listen", [
    ("qemu:///system", "127.0.0.1"),
    ("qemu+ssh://root@node7.example.com/system", "node7.example.com"),
    ("qemu+tls://node7.example.com/system", "192.0.2.7"),
])
def test_the_client_is_told_the_address_it_can_reach(cluster, uri, listen):
    vm = make_vm(cluster, "web1", status=VmStatus.UP, host=host_at(cluster, uri))
    assert client_address(vm, ConsoleAddress(host=listen, port=5901)) == listen


def test_a_console_listening_inside_a_remote_host_is_not_offered(cluster):
    vm = make_vm(cluster, "web1", status=VmStatus.UP, host=host_at(cluster, "qemu+ssh://node7.example.com/system"))
    with pytest.raises(Conflict, match="listens only inside its host"):
        client_address(vm, ConsoleAddress(host="127.0.0.1", port=5901))


def host_at(cluster, uri: str):
    return HostFactory(name=uri.split("/")[2].split("@")[-1] or "local", cluster=cluster, uri=uri)
