"""core.status: one compare-and-swap status change, one Event per real change,
one live update shape for every kind, received through the updates websocket."""

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from core.consumers import UpdatesConsumer
from core.models import Event, Severity
from core.status import status_change
from inventory.choices import HostStatus, NetworkStatus, StorageDomainStatus
from inventory.models import Host, Network, StorageDomain
from inventory.services.hosts import HOST_STATUS
from inventory.services.network import NETWORK_STATUS
from inventory.services.storage import STORAGE_DOMAIN_STATUS
from tests.inventory.factories import DataCenterFactory, HostFactory, StorageDomainFactory
from tests.vms.factories import OperatingSystemFactory
from vms.choices import VmStatus
from vms.models import Vm
from vms.services.status import VM_STATUS, vm_claim

pytestmark = pytest.mark.django_db

SHAPE = {"type", "id", "status", "reason", "label", "colour"}


@pytest.fixture(autouse=True)
def in_memory_channel_layer(settings):
    """The websocket and the publisher share one process here: no Redis needed."""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


def updates_received(user, change) -> list[dict]:
    """What ``user``'s updates websocket receives while ``change()`` runs."""

    async def scenario():
        communicator = WebsocketCommunicator(UpdatesConsumer.as_asgi(), "/ws/updates/")
        communicator.scope["user"] = user
        connected, _ = await communicator.connect()
        assert connected
        await database_sync_to_async(change)()
        messages = []
        while not await communicator.receive_nothing(timeout=0.2):
            messages.append(await communicator.receive_json_from())
        await communicator.disconnect()
        return messages

    return async_to_sync(scenario)()


def make_vm(owner=None, status=VmStatus.DOWN) -> Vm:
    host = HostFactory(status=HostStatus.UP)
    return Vm.objects.create(name="web1", data_center=host.cluster.data_center, cluster=host.cluster,
                             os_type=OperatingSystemFactory(), memory_mb=512, status=status, owner=owner)


def events(obj) -> list[Event]:
    return list(Event.objects.filter(target_id=str(obj.pk), code__startswith=f"{obj._meta.model_name}.").order_by("pk"))


class TestCompareAndSwap:
    def test_it_moves_the_row_and_the_object_and_records_why(self):
        host = HostFactory(status=HostStatus.UP)
        moved = status_change(host, kind=HOST_STATUS, to=HostStatus.NON_RESPONSIVE, reason="Connection refused")
        assert moved is True
        assert host.status == HostStatus.NON_RESPONSIVE and host.status_changed_at is not None
        stored = Host.objects.get(pk=host.pk)
        assert (stored.status, stored.status_reason) == (HostStatus.NON_RESPONSIVE, "Connection refused")
        (event,) = events(host)
        assert event.code == "host.non_responsive" and event.severity == Severity.WARNING
        assert event.message == f"Host {host.name} is now non responsive (was up): Connection refused"

    def test_it_does_not_move_a_row_whose_status_changed_meanwhile(self):
        host = HostFactory(status=HostStatus.UP)
        Host.objects.filter(pk=host.pk).update(status=HostStatus.MAINTENANCE)
        assert status_change(host, kind=HOST_STATUS, to=HostStatus.NON_RESPONSIVE) is False
        assert host.status == HostStatus.UP, "the object is left as it was"
        assert Host.objects.get(pk=host.pk).status == HostStatus.MAINTENANCE
        assert events(host) == []

    def test_it_accepts_any_of_the_expected_statuses(self):
        domain = StorageDomainFactory(status=StorageDomainStatus.INACTIVE)
        assert status_change(domain, kind=STORAGE_DOMAIN_STATUS, to=StorageDomainStatus.LOCKED,
                             expected=(StorageDomainStatus.ACTIVE, StorageDomainStatus.INACTIVE))
        assert StorageDomain.objects.get(pk=domain.pk).status == StorageDomainStatus.LOCKED

    def test_it_writes_the_extra_fields_with_the_status(self):
        domain = StorageDomainFactory(status=StorageDomainStatus.LOCKED)
        status_change(domain, kind=STORAGE_DOMAIN_STATUS, to=StorageDomainStatus.ACTIVE,
                      extra_fields={"capacity_bytes": 42})
        assert StorageDomain.objects.get(pk=domain.pk).capacity_bytes == domain.capacity_bytes == 42

    def test_it_keeps_the_reason_in_the_event_of_a_model_without_a_reason_field(self):
        domain = StorageDomainFactory(status=StorageDomainStatus.ACTIVE)
        status_change(domain, kind=STORAGE_DOMAIN_STATUS, to=StorageDomainStatus.INACTIVE, reason="NFS gone")
        (event,) = events(domain)
        assert event.message.endswith("is now inactive (was active): NFS gone")
        assert event.severity == Severity.WARNING


class TestOneEventPerRealChange:
    def test_it_skips_a_change_that_changes_nothing(self):
        host = HostFactory(status=HostStatus.UP)
        assert status_change(host, kind=HOST_STATUS, to=HostStatus.UP) is False
        assert Host.objects.get(pk=host.pk).status_changed_at is None, "nothing was written"

    def test_a_new_reason_for_the_same_status_is_stored_without_an_event(self):
        host = HostFactory(status=HostStatus.NON_OPERATIONAL, status_reason="network a missing")
        assert status_change(host, kind=HOST_STATUS, to=HostStatus.NON_OPERATIONAL, reason="network b missing")
        assert Host.objects.get(pk=host.pk).status_reason == "network b missing"
        assert events(host) == []

    def test_a_claim_a_job_follows_up_on_records_nothing(self):
        vm = make_vm()
        assert status_change(vm, kind=VM_STATUS, to=VmStatus.POWERING_UP, record=False)
        assert events(vm) == []

    def test_each_move_records_one_event(self):
        network = Network.objects.create(name="front", data_center=DataCenterFactory(), bridge="front")
        status_change(network, kind=NETWORK_STATUS, to=NetworkStatus.LOCKED)
        status_change(network, kind=NETWORK_STATUS, to=NetworkStatus.ACTIVE, reason="bridge front is on h1")
        status_change(network, kind=NETWORK_STATUS, to=NetworkStatus.ACTIVE, expected=NetworkStatus.LOCKED)
        assert [e.code for e in events(network)] == ["network.locked", "network.active"]


# The consumer reads the database through database_sync_to_async, which closes a connection held
# in a test's transaction: these tests commit for real.
@pytest.mark.django_db(transaction=True)
class TestLiveUpdate:
    def test_every_kind_sends_one_shape(self, admin):
        host = HostFactory(status=HostStatus.UP)
        domain = StorageDomainFactory(status=StorageDomainStatus.LOCKED)
        network = Network.objects.create(name="front", data_center=DataCenterFactory(), bridge="front",
                                         status=NetworkStatus.LOCKED)
        vm = make_vm()

        def change():
            status_change(host, kind=HOST_STATUS, to=HostStatus.NON_RESPONSIVE, reason="Connection refused")
            status_change(domain, kind=STORAGE_DOMAIN_STATUS, to=StorageDomainStatus.ACTIVE, reason="42 GiB free")
            status_change(network, kind=NETWORK_STATUS, to=NetworkStatus.ACTIVE)
            status_change(vm, kind=VM_STATUS, to=VmStatus.UP, extra_fields={"host_id": host.pk})

        messages = updates_received(admin, change)

        assert messages == [
            {"type": "host", "id": host.pk, "status": "non_responsive", "reason": "Connection refused",
             "label": "Non responsive", "colour": HostStatus.colour("non_responsive")},
            {"type": "storagedomain", "id": domain.pk, "status": "active", "reason": "42 GiB free",
             "label": "Active", "colour": StorageDomainStatus.colour("active")},
            {"type": "network", "id": network.pk, "status": "active", "reason": "",
             "label": "Active", "colour": NetworkStatus.colour("active")},
            {"type": "vm", "id": vm.pk, "status": "up", "reason": "", "label": "Up",
             "colour": VmStatus.colour("up"), "host": host.pk},
        ]
        assert all(set(m) == SHAPE for m in messages[:3]) and set(messages[3]) == SHAPE | {"host"}

    def test_a_reason_change_is_sent_too(self, admin):
        host = HostFactory(status=HostStatus.NON_OPERATIONAL, status_reason="network a missing")
        (message,) = updates_received(admin, lambda: status_change(
            host, kind=HOST_STATUS, to=HostStatus.NON_OPERATIONAL, reason="network b missing"))
        assert (message["status"], message["reason"]) == ("non_operational", "network b missing")

    def test_nothing_is_sent_when_nothing_moved(self, admin):
        host = HostFactory(status=HostStatus.UP)
        Host.objects.filter(pk=host.pk).update(status=HostStatus.MAINTENANCE)
        assert updates_received(admin, lambda: status_change(host, kind=HOST_STATUS, to=HostStatus.DOWN)) == []

    def test_it_goes_to_the_audience_besides_the_admins(self, alice, charlie):
        vm = make_vm(owner=alice)

        def change():
            status_change(vm, kind=VM_STATUS, to=VmStatus.UP, audience=[alice.pk])

        assert [m["id"] for m in updates_received(alice, change)] == [vm.pk]
        vm.status = VmStatus.DOWN
        vm.save()
        assert updates_received(charlie, change) == []

    def test_a_vm_claim_is_sent_to_its_owner(self, alice):
        vm = make_vm(owner=alice)
        (message,) = updates_received(alice, lambda: vm_claim(
            vm=vm, to=VmStatus.POWERING_UP, allowed=(VmStatus.DOWN,), action="start"))
        assert (message["type"], message["status"]) == ("vm", "powering_up")
