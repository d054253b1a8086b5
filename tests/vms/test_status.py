"""vms.services.status: the VM's status through core.status, and the claims
that start an action."""

import pytest

from core.errors import Conflict
from core.models import Event, Severity
from tests.vms.factories import vm_world
from vms.choices import VmStatus
from vms.models import Vm
from vms.services.status import vm_audience, vm_claim, vm_set_status

pytestmark = pytest.mark.django_db


@pytest.fixture
def vm(alice):
    world = vm_world()
    return Vm.objects.create(name="web1", data_center=world["data_center"], cluster=world["cluster"],
                             os_type=world["os"], memory_mb=512, status=VmStatus.POWERING_UP, owner=alice)


def test_it_moves_the_vm_onto_its_host_and_says_so(vm):
    host = vm.cluster.hosts.first()
    assert vm_set_status(vm=vm, status=VmStatus.UP, host_id=host.pk)
    stored = Vm.objects.get(pk=vm.pk)
    assert (stored.status, stored.host_id) == (VmStatus.UP, host.pk)
    event = Event.objects.get(code="vm.up")
    assert event.message == "VM web1 is now up (was powering up)" and event.severity == Severity.NORMAL


def test_an_unknown_vm_is_a_warning_with_its_reason(vm):
    vm_set_status(vm=vm, status=VmStatus.UNKNOWN, expected=tuple(VmStatus.values()), reason="Its domain vanished.")
    event = Event.objects.get(code="vm.unknown")
    assert event.severity == Severity.WARNING and event.message.endswith(": Its domain vanished.")
    assert Vm.objects.get(pk=vm.pk).status_reason == "Its domain vanished."


def test_a_claim_refused_names_the_status_and_records_nothing(vm):
    with pytest.raises(Conflict, match="VM web1 is powering up; it can start only when down"):
        vm_claim(vm=vm, to=VmStatus.POWERING_UP, allowed=(VmStatus.DOWN,), action="start")
    assert not Event.objects.filter(code__startswith="vm.").exists()


def test_the_owner_hears_of_it(vm, alice):
    assert list(vm_audience(vm)) == [alice.pk]
