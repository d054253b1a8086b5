"""Who may do what to a VM: the pages and the API give the same answer for
every action, as vms.permissions decides it.

A permission matrix (as NetBox's view test cases run each view for users
with and without the permission): for each action and each of the cast,
the expected answer, then both faces asked on VMs of their own, each in a
status where the action's service accepts it, so "allowed" means the
service ran (a job, or the screenshot).

"Refused", explicitly for each face:
- the page: 404 (the VM is not visible to the user), 403 (the screenshot's
  placeholder), or the VM page's message "You may not ...";
- the API: 404 (not visible) or 403."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from tests.vms.factories import OperatingSystemFactory
from tests.vms.test_views import (  # noqa: F401 (fixtures)
    cluster,
    domain,
    fresh_simulated_hosts,
    grant,
    host,
    jobs_of,
    make_vm,
    messages_of,
    running_on_simulated_host,
)
from vms.choices import VmStatus
from vms.permissions import VM_ACTIONS, vm_may, vm_user_ids_allowed

pytestmark = pytest.mark.django_db

ALLOWED, REFUSED = "allowed", "refused"


@pytest.fixture
def catalogue():
    """The one OS make_vm gives its VMs (the whole test catalogue takes a second to import)."""
    OperatingSystemFactory(short_id="linux-generic", name="Linux")


def _post(path: str, data: dict | None = None):
    return lambda client, vm: client.post(reverse(path, args=[vm.pk]), data or {}, follow=True)


def _action(name: str):
    return lambda client, vm: client.post(reverse("vms:vm-action", args=[vm.pk, name]), follow=True)


def _api(method: str, suffix: str, data: dict | None = None):
    return lambda client, vm: getattr(client, method)(f"/api/v1/vms/{vm.pk}/{suffix}", data or {}, format="json")


# action: (the status its service accepts, the page's request, the API's request)
FACES = {
    "view": (VmStatus.DOWN, lambda c, vm: c.get(reverse("vms:vm-detail", args=[vm.pk])), _api("get", "")),
    "start": (VmStatus.DOWN, _action("start"), _api("post", "start/")),
    "shutdown": (VmStatus.UP, _action("shutdown"), _api("post", "shutdown/")),
    "poweroff": (VmStatus.UP, _action("poweroff"), _api("post", "poweroff/")),
    "reboot": (VmStatus.UP, _action("reboot"), _api("post", "reboot/")),
    "suspend": (VmStatus.UP, _action("suspend"), _api("post", "suspend/")),
    "resume": (VmStatus.PAUSED, _action("resume"), _api("post", "resume/")),
    "run_once": (VmStatus.DOWN, _post("vms:vm-run-once", {"boot_device": "hd"}),
                 _api("post", "run-once/", {"boot_device": "hd"})),
    "edit": (VmStatus.DOWN, _post("vms:vm-edit", {"name": "edited", "memory_mb": 2048, "cpu_sockets": 1,
                                                  "cpu_cores": 1, "cpu_threads": 1, "optimization": "server",
                                                  "console": "vnc"}),
             _api("patch", "", {"description": "edited"})),
    "delete": (VmStatus.DOWN, _post("vms:vm-delete"), _api("delete", "")),
    "snapshots": (VmStatus.UP, _post("vms:vm-snapshot-create"), _api("post", "snapshots/")),
    "disks": (VmStatus.DOWN,
              lambda c, vm: c.post(reverse("vms:vm-disk-action", args=[vm.pk, vm.disks.get().pk, "remove"]), follow=True),
              lambda c, vm: c.delete(f"/api/v1/vms/{vm.pk}/disks/{vm.disks.get().pk}/")),
    "screenshot": (VmStatus.UP, lambda c, vm: c.get(reverse("vms:vm-screenshot", args=[vm.pk])),
                   lambda c, vm: c.get(f"/api/v1/vms/{vm.pk}/screenshot.png")),
    "migrate": (VmStatus.UP, _post("vms:vm-migrate"), _api("post", "migrate/")),
}
# Who is who: alice owns the VMs, bob may only look at them, charlie has nothing.
# Owning a VM allows everything on it but choosing its host (an admin's decision).
EXPECTED = {
    "alice": {action: REFUSED if action == "migrate" else ALLOWED for action in FACES},
    "bob": {action: ALLOWED if action == "view" else REFUSED for action in FACES},
    "charlie": {action: REFUSED for action in FACES},
}


def page_answer(response) -> str:
    if response.status_code in (403, 404):
        return REFUSED
    if any(message.startswith("You may not") for message in messages_of(response)):
        return REFUSED
    assert response.status_code == 200, response.status_code
    return ALLOWED


def api_answer(response) -> str:
    if response.status_code in (403, 404):
        return REFUSED
    assert 200 <= response.status_code < 300, response.content
    return ALLOWED


def test_the_matrix_covers_every_vm_action():
    assert set(FACES) == set(VM_ACTIONS) - {"console"}  # consoles come with their own pages


@pytest.mark.parametrize("action", list(FACES))
def test_the_page_and_the_api_give_the_same_answer(client, catalogue, cluster, host, domain, alice, bob, charlie,
                                                   action):
    status, ask_page, ask_api = FACES[action]
    running = status != VmStatus.DOWN
    answers = {}
    for user in (alice, bob, charlie):
        by_page, by_api = (make_vm(cluster, f"{user}-{face}", status=status, host=host if running else None,
                                   owner=alice, disks=[domain]) for face in ("page", "api"))
        for vm in (by_page, by_api):
            grant(bob, ["view"], vm)
            if running:
                running_on_simulated_host(vm, host)
        client.force_login(user)
        api = APIClient()
        api.force_authenticate(user)
        page_says, api_says = page_answer(ask_page(client, by_page)), api_answer(ask_api(api, by_api))
        answers[user.username] = page_says if page_says == api_says else f"page {page_says}, API {api_says}"
        assert vm_may(user, action, by_page) == (EXPECTED[user.username][action] == ALLOWED)
        if action not in ("view", "screenshot", "edit"):  # an allowed action ran: its service made a job
            assert [bool(jobs_of(vm)) for vm in (by_page, by_api)] == [page_says == ALLOWED, api_says == ALLOWED]

    assert answers == {who: expected[action] for who, expected in EXPECTED.items()}


def test_a_console_grant_shows_the_screen_on_both_faces_but_starts_nothing(
    client, catalogue, cluster, host, domain, alice, bob,
):
    vm = make_vm(cluster, "shared", status=VmStatus.UP, host=host, owner=alice, disks=[domain])
    running_on_simulated_host(vm, host)
    grant(bob, ["view", "console"], vm)
    client.force_login(bob)
    api = APIClient()
    api.force_authenticate(bob)
    assert client.get(reverse("vms:vm-screenshot", args=[vm.pk])).status_code == 200
    assert api.get(f"/api/v1/vms/{vm.pk}/screenshot.png").status_code == 200
    assert api.post(f"/api/v1/vms/{vm.pk}/shutdown/").status_code == 403


def test_a_vms_live_updates_go_to_its_owner_and_everyone_granted(catalogue, cluster, admin, alice, bob, charlie):
    vm = make_vm(cluster, "shared", owner=alice)
    grant(bob, ["view"], vm)
    assert vm_user_ids_allowed("view", vm) == {alice.pk, bob.pk}  # the admins hear it on their own group
    assert vm_user_ids_allowed("view", make_vm(cluster, "found", origin="external")) == set()
