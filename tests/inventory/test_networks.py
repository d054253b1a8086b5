"""Logical networks: the model's rules, the service's refusals, and the attach
job on simulated hosts (libvirt's test driver keeps networks per host in memory)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

import hypervisor
import inventory.tasks
from core.errors import Conflict, InvalidInput
from core.jobs import job_task
from core.models import Event, Job, JobStatus, StepStatus
from hypervisor.network import BridgeNetworkSpec, ensure_bridge_network, network_info, remove_network
from inventory.choices import HostStatus
from inventory.choices import NetworkStatus
from inventory.models import Host, Network
from inventory.services.network import (
    bridge_name_for,
    network_attach,
    network_attach_failed,
    network_attach_run,
    network_check_host,
    network_create,
    network_libvirt_name,
)
from tests.inventory.factories import DataCenterFactory, HostFactory, simulated_host_uri

pytestmark = pytest.mark.django_db

UNREACHABLE = "qemu+tcp://127.0.0.1:1/system"

# The job task as inventory/tasks.py will declare it; a stand-in until it does.
attach_task = getattr(inventory.tasks, "network_attach_task", None) or job_task(
    name="test.network_attach", on_failure=network_attach_failed
)(network_attach_run)


@pytest.fixture(autouse=True)
def job_tasks(monkeypatch):
    monkeypatch.setattr(inventory.tasks, "network_attach_task", attach_task, raising=False)


@pytest.fixture(autouse=True)
def fresh_simulated_hosts():
    hypervisor.close_all()
    yield
    hypervisor.close_all()


@pytest.fixture
def host():
    return HostFactory(name="a-host", uri=simulated_host_uri("two-socket-ht.xml"), status=HostStatus.UP)


@pytest.fixture
def data_center(host):
    return host.cluster.data_center


def attach(network, user) -> Job:
    job = network_attach(network=network, user=user)
    attach_task.apply(args=[job.pk])
    job.refresh_from_db()
    network.refresh_from_db()
    return job


class TestModel:
    @pytest.mark.parametrize("field,value", [("vlan", 0), ("vlan", 4095), ("vlan", 5000), ("mtu", 67), ("mtu", 9001),
                                             ("bridge", "x" * 16), ("bridge", "br 0"), ("bridge", "..")])
    def test_out_of_range_values_are_invalid(self, field, value):
        network = Network(name="n", data_center=DataCenterFactory(), **{field: value})
        with pytest.raises(ValidationError) as caught:
            network.full_clean()
        assert field in caught.value.message_dict

    def test_the_defaults(self):
        network = Network(name="n", data_center=DataCenterFactory(), bridge="n")
        network.full_clean()
        assert (network.vm_network, network.vlan, network.mtu, network.status) == (True, None, 1500, "unattached")
        assert NetworkStatus.colour(NetworkStatus.ACTIVE) == "green"


class TestCreate:
    def test_the_bridge_name_is_derived_from_the_name(self, data_center, admin):
        network = network_create(data_center=data_center, name="VM Network (prod)/2", user=admin)

        assert network.bridge == "VM-Network-prod"
        assert network.status == NetworkStatus.UNATTACHED and network.mtu == 1500
        assert Event.objects.get(code="network.created").user == admin

    def test_derivation_keeps_15_allowed_characters(self):
        assert bridge_name_for("ovirtmgmt") == "ovirtmgmt"
        assert bridge_name_for("  a very long network name ") == "a-very-long-net"
        with pytest.raises(InvalidInput, match="give one"):
            bridge_name_for("ééé")

    def test_an_explicit_bridge_and_a_vlan_are_kept(self, data_center, admin):
        network = network_create(data_center=data_center, name="storage", bridge="br-stor", vlan=100,
                                 mtu=9000, vm_network=False, user=admin)
        assert (network.bridge, network.vlan, network.mtu, network.vm_network) == ("br-stor", 100, 9000, False)

    @pytest.mark.parametrize("extra,field", [({"vlan": 5000}, "vlan"), ({"mtu": 10000}, "mtu"),
                                             ({"bridge": "much-too-long-br"}, "bridge")])
    def test_bad_values_are_refused_as_invalid_input(self, data_center, admin, extra, field):
        with pytest.raises(InvalidInput) as caught:
            network_create(data_center=data_center, name="n", user=admin, **extra)
        assert caught.value.status_code == 400 and caught.value.detail.startswith(f"{field}:")
        assert not Network.objects.exists()

    def test_a_name_or_bridge_taken_in_the_data_center_is_refused(self, data_center, admin):
        network_create(data_center=data_center, name="front", bridge="br0", user=admin)

        with pytest.raises(Conflict, match="already has a network named front"):
            network_create(data_center=data_center, name="front", user=admin)
        with pytest.raises(Conflict, match="bridge br0 is already network front's"):
            network_create(data_center=data_center, name="back", bridge="br0", user=admin)
        # Another data center has its own hosts: the same name and bridge are fine there.
        other = network_create(data_center=DataCenterFactory(), name="front", bridge="br0", user=admin)
        assert other.pk and Network.objects.count() == 2


class TestAttach:
    def test_it_locks_and_creates_the_bridge_network_on_every_up_host(self, data_center, host, admin):
        other = HostFactory(name="b-host", cluster=host.cluster, uri=simulated_host_uri("small.xml"),
                            status=HostStatus.UP)
        HostFactory(name="c-host", cluster=host.cluster, uri=UNREACHABLE, status=HostStatus.MAINTENANCE)
        network = network_create(data_center=data_center, name="front", mtu=1400, user=admin)

        job = network_attach(network=network, user=admin)
        assert Network.objects.get(pk=network.pk).status == NetworkStatus.LOCKED
        assert [s["name"] for s in job.steps] == ["Create network on a-host", "Create network on b-host"]
        attach_task.apply(args=[job.pk])
        job.refresh_from_db()
        network.refresh_from_db()

        assert job.status == JobStatus.SUCCEEDED, job.error
        assert all(step["status"] == StepStatus.DONE for step in job.steps)
        assert network.status == NetworkStatus.ACTIVE
        for each in (host, other):
            info = network_info(each.uri, network_libvirt_name(network))
            assert (info.bridge, info.active, info.mtu) == ("front", True, 1400)
        assert "bridge front is on host(s) a-host, b-host" in Event.objects.get(code="network.active").message

    def test_a_failing_host_goes_non_operational_but_the_others_carry_on(self, data_center, host, admin):
        broken = HostFactory(name="z-broken", cluster=host.cluster, uri=UNREACHABLE, status=HostStatus.UP)
        network = network_create(data_center=data_center, name="front", user=admin)

        job = attach(network, admin)

        assert job.status == JobStatus.SUCCEEDED, job.error
        assert job.steps[1]["status"] == StepStatus.FAILED
        assert network.status == NetworkStatus.ACTIVE
        broken.refresh_from_db()
        assert broken.status == HostStatus.NON_OPERATIONAL
        assert broken.status_reason.startswith("network front missing: Host z-broken: Cannot reach")
        assert Host.objects.get(pk=host.pk).status == HostStatus.UP

    def test_no_host_succeeding_fails_the_job_and_unlocks_the_network(self, admin):
        broken = HostFactory(name="broken", uri=UNREACHABLE, status=HostStatus.UP)
        network = network_create(data_center=broken.cluster.data_center, name="front", user=admin)

        job = attach(network, admin)

        assert job.status == JobStatus.FAILED
        assert job.error.startswith("Network front could not be created on any host: Host broken:")
        assert network.status == NetworkStatus.INACTIVE
        assert "was locked" in Event.objects.get(code="network.inactive").message
        assert Host.objects.get(pk=broken.pk).status == HostStatus.NON_OPERATIONAL

    def test_a_bridge_held_by_another_libvirt_network_fails_that_host(self, data_center, host, admin):
        ensure_bridge_network(host.uri, BridgeNetworkSpec(name="someone-else", bridge="front"))
        network = network_create(data_center=data_center, name="front", user=admin)

        job = attach(network, admin)

        assert job.status == JobStatus.FAILED and "already belongs to the network 'someone-else'" in job.error
        assert network.status == NetworkStatus.INACTIVE
        host.refresh_from_db()
        assert host.status == HostStatus.NON_OPERATIONAL and "network front missing" in host.status_reason

    def test_refusals(self, data_center, host, admin):
        network = network_create(data_center=data_center, name="front", user=admin)
        Network.objects.filter(pk=network.pk).update(status=NetworkStatus.LOCKED)
        with pytest.raises(Conflict, match=r"is locked \(another job is working on it\)"):
            network_attach(network=network, user=admin)
        Network.objects.filter(pk=network.pk).update(status=NetworkStatus.ACTIVE)
        with pytest.raises(Conflict, match="is active; only an unattached or inactive network"):
            network_attach(network=network, user=admin)

        lonely = network_create(data_center=DataCenterFactory(name="empty"), name="x", user=admin)
        with pytest.raises(Conflict, match="Data center empty has no host up"):
            network_attach(network=lonely, user=admin)
        assert Network.objects.get(pk=lonely.pk).status == NetworkStatus.UNATTACHED
        assert not Job.objects.exists()

    def test_an_inactive_network_can_be_attached_again(self, data_center, host, admin):
        network = network_create(data_center=data_center, name="front", user=admin)
        Network.objects.filter(pk=network.pk).update(status=NetworkStatus.INACTIVE)

        assert attach(network, admin).status == JobStatus.SUCCEEDED
        assert network.status == NetworkStatus.ACTIVE


class TestCheckHost:
    def test_a_host_missing_an_active_network_goes_non_operational(self, data_center, host, admin):
        network = network_create(data_center=data_center, name="front", user=admin)
        attach(network, admin)
        assert network_check_host(host=host) == []
        network_create(data_center=data_center, name="unattached-one", user=admin)  # not active: not wanted

        remove_network(host.uri, network_libvirt_name(network))
        assert network_check_host(host=host) == ["front"]

        host.refresh_from_db()
        assert host.status == HostStatus.NON_OPERATIONAL
        assert host.status_reason == "network front missing: not defined on host a-host"
        event = Event.objects.get(code="host.non_operational")
        assert "network front missing" in event.message

    def test_a_stopped_network_is_missing_too_and_maintenance_is_left_alone(self, data_center, host, admin):
        network = network_create(data_center=data_center, name="front", user=admin)
        attach(network, admin)
        hypervisor.get_connection(host.uri).networkLookupByName(network_libvirt_name(network)).destroy()
        Host.objects.filter(pk=host.pk).update(status=HostStatus.MAINTENANCE)
        host.refresh_from_db()

        assert network_check_host(host=host) == ["front"]
        assert Host.objects.get(pk=host.pk).status == HostStatus.MAINTENANCE
