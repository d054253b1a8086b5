"""Tickets for the serial console and for SPICE: the same issuing rules as
VNC, with their own differences: a serial ticket leads to /ws/serial/ and
needs no screen; a SPICE ticket admits the further channels of its own
session (spice-html5 opens one websocket per channel) until it expires, and
nobody else's."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from consoles.models import ConsoleTicket
from consoles.services import TicketRefused, console_ticket_issue, console_ticket_redeem
from inventory.choices import HostStatus
from tests.consoles.test_tickets import api_for
from tests.inventory.factories import ClusterFactory, HostFactory
from tests.vms.factories import OperatingSystemFactory
from vms.choices import VmStatus
from vms.models import Vm

pytestmark = pytest.mark.django_db


def test_a_headless_vm_gets_a_serial_ticket_for_the_serial_websocket(console_vms, alice):
    web1, _ = console_vms
    Vm.objects.filter(pk=web1.pk).update(console="none")
    body = api_for(alice).post(reverse("api:vm-console", args=[web1.pk]), {"protocol": "serial"}, format="json").json()
    assert body["protocol"] == "serial" and body["password"] is None
    assert body["websocket_path"] == f"/ws/serial/?token={body['ticket']}&vm={web1.pk}"
    assert body["page_url"] == f"/vms/{web1.pk}/serial/"


def test_a_serial_ticket_is_redeemed_once_and_only_as_serial(console_vms, alice):
    web1, _ = console_vms
    issued = console_ticket_issue(user=alice, vm=web1, protocol="serial")
    with pytest.raises(TicketRefused, match="ticket is for the serial console"):
        console_ticket_redeem(issued.ticket, user=alice, vm_id=web1.pk)  # the graphical proxy's call
    again = console_ticket_issue(user=alice, vm=web1, protocol="serial")
    target = console_ticket_redeem(again.ticket, user=alice, vm_id=web1.pk, protocols=("serial",))
    assert (target.vm, target.protocol) == (web1, "serial")
    with pytest.raises(TicketRefused, match="already used"):
        console_ticket_redeem(again.ticket, user=alice, vm_id=web1.pk, protocols=("serial",))


@pytest.fixture
def spice_vm(tmp_path, fake_vnc, alice):
    """A running SPICE VM of alice's on a simulated host; its "SPICE server" is fake_vnc's socket."""
    cluster = ClusterFactory(name="spice")
    vm = Vm.objects.create(name="desk1", cluster=cluster, data_center=cluster.data_center,
                           os_type=OperatingSystemFactory(), memory_mb=256, memory_guaranteed_mb=256,
                           status=VmStatus.UP, owner=alice, console="spice")
    node = tmp_path / "spice-host.xml"
    node.write_text(f"""<node><domain type='test'><name>desk1</name><uuid>{vm.uuid}</uuid><memory>65536</memory>
      <vcpu>1</vcpu><os><type>hvm</type></os><devices><graphics type='spice' port='{fake_vnc.port}' autoport='no'>
      <listen type='address' address='127.0.0.1'/></graphics></devices></domain></node>""")
    vm.host = HostFactory(name="spice-node", cluster=cluster, uri=f"test://{node}", status=HostStatus.UP,
                          domain_type="test")
    vm.save(update_fields=["host"])
    return vm


def test_a_spice_ticket_admits_its_sessions_channels_until_it_expires(spice_vm, fake_vnc, alice):
    issued = console_ticket_issue(user=alice, vm=spice_vm, protocol="spice")
    for _channel in ("main", "display", "inputs", "cursor"):
        target = console_ticket_redeem(issued.ticket, user=alice, vm_id=spice_vm.pk)
        assert (target.protocol, target.port) == ("spice", fake_vnc.port)
    ConsoleTicket.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(TicketRefused, match="expired"):
        console_ticket_redeem(issued.ticket, user=alice, vm_id=spice_vm.pk)


def test_a_spice_ticket_presented_by_another_user_is_burnt_for_its_owner_too(spice_vm, alice, bob):
    issued = console_ticket_issue(user=alice, vm=spice_vm, protocol="spice")
    console_ticket_redeem(issued.ticket, user=alice, vm_id=spice_vm.pk)  # the main channel
    with pytest.raises(TicketRefused, match="another user"):
        console_ticket_redeem(issued.ticket, user=bob, vm_id=spice_vm.pk)
    with pytest.raises(TicketRefused, match="expired"):  # not even its owner's further channels
        console_ticket_redeem(issued.ticket, user=alice, vm_id=spice_vm.pk)
