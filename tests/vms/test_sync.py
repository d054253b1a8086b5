"""VM status from libvirt: lifecycle events as the watcher hands them over,
and the reconcile that catches what an event missed (fast lane: events are
built here, domains live on libvirt's test driver)."""

import uuid

import pytest

import hypervisor
from core.models import Event
from hypervisor.specs import DomainSpec
from tests.inventory.factories import simulated_host_uri
from tests.vms.factories import OperatingSystemFactory, vm_world
from vms.choices import VmOrigin, VmStatus
from vms.models import Vm
from vms.services.sync import vm_sync_event, vms_reconcile_host

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db):
    world = vm_world()
    OperatingSystemFactory(short_id="other", name="Other OS", family="other")
    return world


def a_vm(world, *, status=VmStatus.UP, name="web1"):
    host = world["hosts"][0]
    return Vm.objects.create(name=name, cluster=world["cluster"], data_center=world["data_center"],
                             os_type=world["os"], memory_mb=512, host=host, status=status)


def event(vm_or_uuid, kind: str, uri: str) -> hypervisor.DomainEvent:
    domain_uuid = str(getattr(vm_or_uuid, "uuid", vm_or_uuid))
    return hypervisor.DomainEvent(uri=uri, domain_uuid=domain_uuid, domain_name="web1", event=kind, detail=0)


@pytest.mark.parametrize(("kind", "before", "after"), [
    ("suspended", VmStatus.UP, VmStatus.PAUSED),
    ("resumed", VmStatus.PAUSED, VmStatus.UP),
    ("stopped", VmStatus.UP, VmStatus.DOWN),
    ("started", VmStatus.DOWN, VmStatus.UP),
    ("crashed", VmStatus.UP, VmStatus.DOWN),
])
def test_a_lifecycle_event_moves_the_vm_and_leaves_an_event(world, kind, before, after):
    vm = a_vm(world, status=before)
    vm_sync_event(event(vm, kind, vm.host.uri))
    vm.refresh_from_db()
    assert vm.status == after
    assert Event.objects.filter(code=f"vm.{after}").exists()


def test_an_event_from_a_host_the_vm_has_left_changes_nothing(world):
    vm = a_vm(world)
    vm_sync_event(event(vm, "stopped", world["hosts"][1].uri))
    assert Vm.objects.get(pk=vm.pk).status == VmStatus.UP


def test_a_vm_held_by_a_job_is_left_to_the_job(world):
    vm = a_vm(world, status=VmStatus.IMAGE_LOCKED)
    vm_sync_event(event(vm, "stopped", vm.host.uri))
    assert Vm.objects.get(pk=vm.pk).status == VmStatus.IMAGE_LOCKED


def test_a_domain_undefined_outside_the_portal_marks_the_vm_unknown_never_deletes_it(world):
    vm = a_vm(world, status=VmStatus.DOWN)
    vm_sync_event(event(vm, "undefined", vm.host.uri))
    vm.refresh_from_db()
    assert vm.status == VmStatus.UNKNOWN
    assert "removed from host1 outside the portal" in vm.status_reason
    assert Event.objects.get(code="vm.unknown").severity == "warning"


@pytest.fixture
def simulated(world):
    """host1 as a test-driver host with one domain the portal knows and one it does not."""
    host = world["hosts"][0]
    host.uri = simulated_host_uri()
    host.save()
    known = a_vm(world, status=VmStatus.DOWN, name="known")
    hypervisor.define_domain(host.uri, DomainSpec(name="known", memory_mb=128, domain_type="test",
                                                  uuid=str(known.uuid)))
    stranger = str(uuid.uuid4())
    hypervisor.define_domain(host.uri, DomainSpec(name="stranger", memory_mb=256, domain_type="test",
                                                  uuid=stranger))
    yield host, known, stranger
    for domain in hypervisor.list_domains(host.uri):
        hypervisor.undefine_domain(host.uri, domain.uuid)


def test_the_reconcile_lists_a_domain_created_outside_the_portal_as_external(simulated):
    host, _known, stranger = simulated
    vms_reconcile_host(host=host)
    external = Vm.objects.get(uuid=stranger)
    assert (external.name, external.origin, external.memory_mb, external.status) == (
        "stranger", VmOrigin.EXTERNAL, 256, VmStatus.DOWN)
    assert Event.objects.filter(code="vm.external").count() == 1
    vms_reconcile_host(host=host)
    assert Vm.objects.filter(uuid=stranger).count() == 1


def test_the_reconcile_catches_a_missed_start_and_a_vanished_domain(simulated):
    host, known, _stranger = simulated
    hypervisor.start_domain(host.uri, str(known.uuid))
    vms_reconcile_host(host=host)
    assert Vm.objects.get(pk=known.pk).status == VmStatus.UP
    hypervisor.destroy_domain(host.uri, str(known.uuid))
    hypervisor.undefine_domain(host.uri, str(known.uuid))
    vms_reconcile_host(host=host)
    known.refresh_from_db()
    assert known.status == VmStatus.UNKNOWN and "no longer on host1" in known.status_reason
