"""Roles and object grants: who may do what, and what restrict() lets through."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType

from core.models import Permission, Role
from core.permissions import has_permission, restrict, user_ids_allowed
from inventory.models import DataCenter

pytestmark = pytest.mark.django_db


@pytest.fixture
def data_centers():
    return [DataCenter.objects.create(name=name) for name in ("east", "west")]


@pytest.fixture
def viewer():
    return Role.objects.create(name="Viewer", actions=["view"])


def grant(role, obj=None, **who):
    return Permission.objects.create(
        role=role,
        object_type=ContentType.objects.get_for_model(obj) if obj else None,
        object_id=str(obj.pk) if obj else "",
        **who,
    )


def test_it_lets_a_superuser_role_holder_see_everything(admin, data_centers):
    assert set(restrict(DataCenter.objects.all(), admin)) == set(data_centers)
    assert has_permission(admin, "delete", data_centers[0])


def test_it_shows_nothing_to_a_user_with_no_grants(charlie, data_centers):
    assert not restrict(DataCenter.objects.all(), charlie).exists()
    assert not has_permission(charlie, "view", data_centers[0])


def test_it_shows_only_the_objects_granted_to_the_user(bob, viewer, data_centers):
    east, west = data_centers
    grant(viewer, east, user=bob)
    assert list(restrict(DataCenter.objects.all(), bob)) == [east]
    assert has_permission(bob, "view", east)
    assert not has_permission(bob, "view", west)


def test_it_does_not_let_a_role_do_actions_it_lacks(bob, viewer, data_centers):
    grant(viewer, data_centers[0], user=bob)
    assert not restrict(DataCenter.objects.all(), bob, "delete").exists()
    assert not has_permission(bob, "delete", data_centers[0])


def test_it_grants_through_groups(alice, viewer, data_centers):
    team = Group.objects.create(name="team")
    alice.groups.add(team)
    grant(viewer, data_centers[1], group=team)
    assert list(restrict(DataCenter.objects.all(), alice)) == [data_centers[1]]


def test_it_treats_a_grant_without_object_as_system_wide(alice, viewer, data_centers):
    grant(viewer, user=alice)
    assert set(restrict(DataCenter.objects.all(), alice)) == set(data_centers)
    assert not has_permission(alice, "delete")


def test_it_shows_nothing_to_an_anonymous_user(data_centers):
    from django.contrib.auth.models import AnonymousUser

    assert not restrict(DataCenter.objects.all(), AnonymousUser()).exists()


def test_it_names_the_users_a_live_update_about_an_object_goes_to(admin, alice, bob, charlie, viewer, data_centers):
    """Granted on the object, through a group, or system-wide; not the admins
    (they hear every update on the admins' group) nor anyone else."""
    east, west = data_centers
    team = Group.objects.create(name="team")
    alice.groups.add(team)
    grant(viewer, east, group=team)
    grant(viewer, east, user=bob)
    grant(viewer, west, user=charlie)
    dave = get_user_model().objects.create_user("dave")
    grant(viewer, user=dave)
    assert user_ids_allowed("view", east) == {alice.pk, bob.pk, dave.pk}
    assert user_ids_allowed("view", west) == {charlie.pk, dave.pk}
    assert user_ids_allowed("delete", east) == set()


def test_it_leaves_out_superusers_and_holders_of_a_system_wide_role_for_everything(viewer, data_centers):
    everything = Role.objects.create(name="Everything", actions=["*"])
    admins = Group.objects.create(name="admins")
    chief = get_user_model().objects.create_user("chief", is_superuser=True)
    member = get_user_model().objects.create_user("member")
    member.groups.add(admins)
    grant(everything, group=admins)
    grant(viewer, data_centers[0], user=chief)
    grant(viewer, data_centers[0], user=member)
    assert user_ids_allowed("view", data_centers[0]) == set()
