"""The VM page's Snapshots card and its POST actions, in the fast lane: the
buttons follow the VM's status and the user's rights, the same as the API."""

import pytest

from core.models import Job
from tests.support.jobs import run_job as run
from tests.vms.test_lifecycle import world  # noqa: F401 (the world fixture)
from tests.vms.test_snapshots import vm  # noqa: F401 (web1, running)
from tests.vms.test_views import grant, page_of
from vms.choices import VmStatus
from vms.models import Vm, VmSnapshot

pytestmark = pytest.mark.django_db


def page(client, vm) -> str:
    return page_of(client.get(f"/vms/{vm.pk}/"))


def take(client, vm, description=""):
    response = client.post(f"/vms/{vm.pk}/snapshots/new/", {"description": description})
    assert response.status_code == 302 and response.url == f"/vms/{vm.pk}/"
    run(Job.objects.filter(kind="vm.snapshot_create").latest("pk"))
    return VmSnapshot.objects.latest("pk")


def test_the_card_takes_a_snapshot_with_memory_and_lists_it_with_restore_and_delete(logged_in, vm):
    html = page(logged_in, vm)
    assert "No snapshots" in html and 'data-snapshot-action="create"' in html
    assert "its memory is saved with the disks" in html
    snapshot = take(logged_in, vm, "before upgrade")
    html = page(logged_in, vm)
    assert f'data-snapshot="{snapshot.name}"' in html and "before upgrade" in html
    assert 'data-snapshot-action="restore"' in html and 'data-snapshot-action="delete"' in html

    response = logged_in.post(f"/vms/{vm.pk}/snapshots/{snapshot.pk}/restore/")
    assert response.status_code == 302
    assert run(Job.objects.get(kind="vm.snapshot_restore")).status == "succeeded"
    logged_in.post(f"/vms/{vm.pk}/snapshots/{snapshot.pk}/delete/")
    assert run(Job.objects.get(kind="vm.snapshot_delete")).status == "succeeded"
    assert not VmSnapshot.objects.exists()


def test_a_down_vm_offers_no_restore_of_a_memory_snapshot_and_says_only_disks_are_kept(logged_in, vm):
    take(logged_in, vm)
    Vm.objects.filter(pk=vm.pk).update(status=VmStatus.DOWN)
    html = page(logged_in, vm)
    assert "only its disks are kept" in html
    assert 'data-snapshot-action="restore"' not in html and 'data-snapshot-action="delete"' in html


def test_a_viewer_sees_the_tree_without_buttons_and_a_refusal_is_a_message(client, vm, admin, bob, logged_in):
    take(logged_in, vm)
    grant(bob, ["view"], vm)
    client.force_login(bob)
    html = page(client, vm)
    assert 'data-snapshot="' in html and "data-snapshot-action" not in html
    response = client.post(f"/vms/{vm.pk}/snapshots/new/", {"description": "x"}, follow=True)
    assert "You may not manage the snapshots of VM web1." in response.content.decode()
    assert VmSnapshot.objects.count() == 1


def test_a_chain_past_the_setting_shows_a_warning(logged_in, vm, settings):
    settings.SNAPSHOT_CHAIN_WARNING_DEPTH = 1
    take(logged_in, vm)
    assert "The snapshot chain is deeper than" not in page(logged_in, vm)
    take(logged_in, vm)
    assert "The snapshot chain is deeper than 1" in page(logged_in, vm)
