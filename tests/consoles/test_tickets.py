"""Issuing console tickets (the service, POST vms/<id>/console/) and the
console page: who gets one, what is stored, what a refusal says."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from consoles.models import ConsoleTicket
from consoles.services import console_origin_allowed, console_ticket_issue, console_ticket_redeem, TicketRefused
from core.errors import Conflict, PermissionDenied
from tests.vms.test_views import grant
from vms.choices import VmStatus
from vms.models import Vm

pytestmark = pytest.mark.django_db


def api_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_a_ticket_is_long_random_and_stored_only_as_its_hash(console_vms, alice, settings):
    web1, _ = console_vms
    before = timezone.now()
    issued = console_ticket_issue(user=alice, vm=web1, protocol="vnc")
    again = console_ticket_issue(user=alice, vm=web1, protocol="vnc")
    assert len(issued.ticket) >= 43 and issued.ticket != again.ticket  # 256 bits, url-safe base64
    stored = ConsoleTicket.objects.get(token_hash=hashlib.sha256(issued.ticket.encode()).hexdigest())
    assert (stored.user, stored.vm, stored.protocol, stored.used_at) == (alice, web1, "vnc", None)
    assert not ConsoleTicket.objects.filter(token_hash=issued.ticket).exists()
    assert timedelta(seconds=settings.CONSOLE_TICKET_SECONDS - 1) <= stored.expires_at - before \
        <= timedelta(seconds=settings.CONSOLE_TICKET_SECONDS + 1)


def test_the_api_answers_the_ticket_and_where_to_use_it(console_vms, alice):
    web1, _ = console_vms
    response = api_for(alice).post(reverse("api:vm-console", args=[web1.pk]), {"protocol": "vnc"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"ticket", "expires_at", "protocol", "websocket_path", "page_url", "password"}
    assert body["password"] is None  # this (simulated) VNC server asks for none
    assert body["protocol"] == "vnc" and body["page_url"] == f"/vms/{web1.pk}/console/"
    assert body["websocket_path"] == f"/websockify?token={body['ticket']}&vm={web1.pk}"


def test_without_console_rights_it_is_403_and_nothing_is_stored(console_vms, bob, charlie):
    web1, _ = console_vms
    grant(bob, ["view"], web1)
    response = api_for(bob).post(reverse("api:vm-console", args=[web1.pk]), {}, format="json")
    assert response.status_code == 403
    assert response.json()["detail"] == "You may not open the console of VM web1."
    # Who may not even see the VM does not learn it exists.
    assert api_for(charlie).post(reverse("api:vm-console", args=[web1.pk]), {}, format="json").status_code == 404
    assert not ConsoleTicket.objects.exists()


def test_a_user_granted_the_console_gets_a_ticket(console_vms, bob):
    web1, _ = console_vms
    grant(bob, ["view", "console"], web1)
    assert api_for(bob).post(reverse("api:vm-console", args=[web1.pk]), {}, format="json").status_code == 200


@pytest.mark.parametrize("change, body, status, words", [
    ({"status": VmStatus.DOWN}, {}, 409, "must be running"),
    ({"console": "none"}, {}, 409, "must be running with a screen"),
    ({}, {"protocol": "spice"}, 409, "has a VNC console, not SPICE"),
    ({"status": VmStatus.DOWN}, {"protocol": "serial"}, 409, "its serial console exists only while it runs"),
    ({}, {"protocol": "rdp"}, 400, "not a valid choice"),
])
def test_a_ticket_for_a_console_the_vm_does_not_have_is_refused(console_vms, alice, change, body, status, words):
    web1, _ = console_vms
    Vm.objects.filter(pk=web1.pk).update(**change)
    response = api_for(alice).post(reverse("api:vm-console", args=[web1.pk]), body, format="json")
    assert response.status_code == status and words in response.content.decode()
    assert not ConsoleTicket.objects.exists()


def test_redeeming_answers_the_console_address_once(console_vms, fake_vnc, alice):
    web1, _ = console_vms
    issued = console_ticket_issue(user=alice, vm=web1, protocol="vnc")
    target = console_ticket_redeem(issued.ticket, user=alice, vm_id=str(web1.pk))
    assert (target.host, target.port, target.vm, target.user) == ("127.0.0.1", fake_vnc.port, web1, alice)
    with pytest.raises(TicketRefused, match="already used"):
        console_ticket_redeem(issued.ticket, user=alice, vm_id=str(web1.pk))


def test_a_ticket_whose_owner_lost_the_right_is_refused(console_vms, bob):
    web1, _ = console_vms
    grant(bob, ["view", "console"], web1)
    issued = console_ticket_issue(user=bob, vm=web1, protocol="vnc")
    from core.models import Permission
    Permission.objects.filter(user=bob).delete()
    with pytest.raises(TicketRefused, match="no longer allowed"):
        console_ticket_redeem(issued.ticket, user=bob, vm_id=str(web1.pk))


def test_issuing_checks_the_right_in_the_service_too(console_vms, bob):
    web1, _ = console_vms
    with pytest.raises(PermissionDenied):
        console_ticket_issue(user=bob, vm=web1, protocol="vnc")
    Vm.objects.filter(pk=web1.pk).update(status=VmStatus.DOWN)
    web1.refresh_from_db()
    with pytest.raises(Conflict):
        console_ticket_issue(user=web1.owner, vm=web1, protocol="vnc")


@pytest.mark.parametrize("origin, host, allowed", [
    ("http://127.0.0.1:8000", "127.0.0.1:8000", True),
    ("https://localhost", "localhost", True),
    ("http://127.0.0.1:8001", "127.0.0.1:8000", False),  # another port is another origin
    ("http://evil.test", "127.0.0.1:8000", False),
    (None, "127.0.0.1:8000", False),
    ("null", "127.0.0.1:8000", False),
    ("http://evil.test", "evil.test", False),  # a Host we do not serve (DNS rebinding)
])
def test_the_origin_rule(origin, host, allowed):
    assert console_origin_allowed(origin, host) is allowed


def test_the_console_page_opens_for_whoever_may_use_the_console(client, console_vms, alice, bob):
    web1, _ = console_vms
    client.force_login(alice)
    page = client.get(reverse("consoles:vm-console", args=[web1.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert f'data-ticket-url="/api/v1/vms/{web1.pk}/console/"' in text and "vendor/novnc" not in text  # via console.js
    assert "js/console" in text and "Ctrl+Alt+Del" in text and "Paste as typing" in text
    grant(bob, ["view"], web1)
    client.force_login(bob)
    assert client.get(reverse("consoles:vm-console", args=[web1.pk])).status_code == 403


def test_the_vm_list_and_page_open_the_console_in_one_click(client, console_vms, alice):
    web1, _ = console_vms
    client.force_login(alice)
    console_url = reverse("consoles:vm-console", args=[web1.pk])
    assert f'href="{console_url}"' in client.get(reverse("vms:vm-list")).content.decode()
    assert f'href="{console_url}"' in client.get(reverse("vms:vm-detail", args=[web1.pk])).content.decode()
    Vm.objects.filter(pk=web1.pk).update(status=VmStatus.DOWN)
    assert f'href="{console_url}"' not in client.get(reverse("vms:vm-list")).content.decode()
