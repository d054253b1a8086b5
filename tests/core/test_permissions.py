import pytest
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType

from core.models import Permission, Role
from core.permissions import has_permission, restrict
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
