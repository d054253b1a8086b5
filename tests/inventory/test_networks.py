"""Logical networks: the model's rules, the service's refusals, and the attach
and detach jobs on simulated hosts (libvirt's test driver keeps networks and
host interfaces per host in memory)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

import hypervisor
from core.errors import Conflict, InvalidInput
from core.models import Event, Job, JobStatus, Severity, StepStatus
from hypervisor.network import BridgeNetworkSpec, ensure_bridge_network, list_networks, network_info, remove_network
from inventory.choices import HostStatus
from inventory.choices import NetworkStatus
from inventory.models import Host, Network
from inventory.services.network import (
    bridge_name_for,
    network_attach,
    network_check_host,
    network_create,
    network_detach,
    network_libvirt_name,
    network_remove,
    network_update,
    network_usage,
)
from tests.inventory.factories import DataCenterFactory, HostFactory, nics_on, open_vswitch_bridge, simulated_host_uri
from tests.support.jobs import run_job

pytestmark = pytest.mark.django_db

UNREACHABLE = "qemu+tcp://127.0.0.1:1/system"


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
    job = run_job(job)
    network.refresh_from_db()
    return job


def detach(network, user) -> Job:
    was = Network.objects.get(pk=network.pk).status
    job = network_detach(network=network, user=user)
    assert job.args == [was], "the job keeps the status to go back to"
    job = run_job(job)
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
        job = run_job(job)
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


class TestVlan:
    def test_a_vlan_network_defaults_to_the_open_vswitch_bridge_ovsbr0(self, data_center, admin):
        network = network_create(data_center=data_center, name="prod", vlan=100, user=admin)
        assert network.bridge == "ovsbr0"
        # One network per VLAN on that bridge; never an untagged network on it.
        assert network_create(data_center=data_center, name="test", vlan=200, user=admin).bridge == "ovsbr0"
        with pytest.raises(Conflict, match="Network prod already carries VLAN 100 on the bridge ovsbr0"):
            network_create(data_center=data_center, name="prod2", vlan=100, user=admin)
        with pytest.raises(Conflict, match="a bridge carries either one untagged network"):
            network_create(data_center=data_center, name="plain", bridge="ovsbr0", user=admin)

    def test_attach_tags_the_vlan_on_each_hosts_open_vswitch_bridge(self, data_center, host, admin):
        other = HostFactory(name="b-host", cluster=host.cluster, uri=simulated_host_uri("small.xml"),
                            status=HostStatus.UP)
        for each in (host, other):
            open_vswitch_bridge(each)
        network = network_create(data_center=data_center, name="prod", vlan=100, user=admin)

        job = attach(network, admin)

        assert job.status == JobStatus.SUCCEEDED, job.error
        assert network.status == NetworkStatus.ACTIVE
        for each in (host, other):
            info = network_info(each.uri, network_libvirt_name(network))
            assert (info.bridge, info.vlan, info.openvswitch, info.active) == ("ovsbr0", 100, True, True)
        assert ("VLAN 100 is tagged on the Open vSwitch bridge ovsbr0 of host(s) a-host, b-host"
                in Event.objects.get(code="network.active").message)
        assert network_check_host(host=host) == []

    def test_a_host_without_the_open_vswitch_bridge_goes_non_operational_saying_so(self, data_center, host, admin):
        lacking = HostFactory(name="b-host", cluster=host.cluster, uri=simulated_host_uri("small.xml"),
                              status=HostStatus.UP)
        open_vswitch_bridge(host)
        network = network_create(data_center=data_center, name="prod", vlan=100, user=admin)

        job = attach(network, admin)

        assert job.status == JobStatus.SUCCEEDED and network.status == NetworkStatus.ACTIVE
        lacking.refresh_from_db()
        assert lacking.status == HostStatus.NON_OPERATIONAL
        assert "network prod missing: Host b-host" in lacking.status_reason
        assert "no network device ovsbr0: a VLAN network needs an Open vSwitch bridge" in lacking.status_reason
        assert network_libvirt_name(network) not in [info.name for info in list_networks(lacking.uri)]

    def test_a_bridge_with_another_mtu_fails_that_host(self, data_center, host, admin):
        open_vswitch_bridge(host, mtu=1500)
        network = network_create(data_center=data_center, name="jumbo", vlan=7, mtu=9000, user=admin)

        job = attach(network, admin)

        assert job.status == JobStatus.FAILED and "has MTU 1500, not 9000" in job.error
        assert network.status == NetworkStatus.INACTIVE

    def test_the_check_finds_a_vanished_open_vswitch_bridge(self, data_center, host, admin):
        open_vswitch_bridge(host)
        network = network_create(data_center=data_center, name="prod", vlan=100, user=admin)
        attach(network, admin)
        hypervisor.get_connection(host.uri).interfaceLookupByName("ovsbr0").undefine()

        assert network_check_host(host=host) == ["prod"]
        host.refresh_from_db()
        assert host.status == HostStatus.NON_OPERATIONAL and "no network device ovsbr0" in host.status_reason

    def test_the_check_finds_a_network_realised_without_its_vlan(self, data_center, host, admin):
        network = network_create(data_center=data_center, name="prod", bridge="prodbr", user=admin)
        attach(network, admin)  # untagged, as before VLANs were realised
        Network.objects.filter(pk=network.pk).update(vlan=100)

        assert network_check_host(host=host) == ["prod"]
        host.refresh_from_db()
        assert "on host a-host it tags no VLAN, not VLAN 100: detach it and attach it again" in host.status_reason


class TestUpdate:
    @pytest.mark.parametrize("fields, words", [
        ({"bridge": "other"}, "its bridge cannot change"),
        ({"vlan": 10}, "its VLAN cannot change"),
        ({"mtu": 9000}, "its MTU cannot change"),
        ({"bridge": "other", "mtu": 1400}, "its bridge and MTU cannot change"),
    ])
    def test_an_attached_networks_host_facts_cannot_change_before_a_detach(self, data_center, admin, fields, words):
        network = network_create(data_center=data_center, name="front", user=admin)
        Network.objects.filter(pk=network.pk).update(status=NetworkStatus.ACTIVE)

        with pytest.raises(InvalidInput) as caught:
            network_update(network=network, fields=fields, user=admin)

        assert caught.value.status_code == 400
        assert caught.value.detail.startswith(f"Network front is active: {words} while hosts have it. Detach it first")
        assert Network.objects.filter(pk=network.pk, bridge="front", vlan=None, mtu=1500).exists()
        assert not Event.objects.filter(code="network.updated").exists()

    def test_a_locked_one_says_a_job_is_working_on_it(self, data_center, admin):
        network = network_create(data_center=data_center, name="front", user=admin)
        Network.objects.filter(pk=network.pk).update(status=NetworkStatus.LOCKED)
        with pytest.raises(InvalidInput, match="is locked and a job is working on it"):
            network_update(network=network, fields={"vlan": 3}, user=admin)

    def test_an_attached_network_may_be_renamed_and_described(self, data_center, admin):
        network = network_create(data_center=data_center, name="front", user=admin)
        Network.objects.filter(pk=network.pk).update(status=NetworkStatus.ACTIVE)
        network.refresh_from_db()

        network_update(network=network, fields={"name": "public", "description": "web", "bridge": "front",
                                                "mtu": 1500}, user=admin)

        network.refresh_from_db()
        assert (network.name, network.description, network.bridge) == ("public", "web", "front")
        assert Event.objects.get(code="network.updated").message.endswith("description, name.")

    def test_an_unattached_network_changes_freely_with_the_same_rules_as_creation(self, data_center, admin):
        network = network_create(data_center=data_center, name="front", user=admin)
        network_create(data_center=data_center, name="taken", bridge="br-taken", user=admin)

        network_update(network=network, fields={"vlan": 30, "bridge": ""}, user=admin)
        network.refresh_from_db()
        assert (network.vlan, network.bridge) == (30, "ovsbr0")
        with pytest.raises(Conflict, match="already network taken's"):
            network_update(network=network, fields={"vlan": None, "bridge": "br-taken"}, user=admin)
        with pytest.raises(InvalidInput, match="^vlan:"):
            network_update(network=network, fields={"vlan": 5000}, user=admin)


class TestDetach:
    def test_it_removes_the_network_from_every_host_of_the_data_center(self, data_center, host, admin):
        resting = HostFactory(name="b-host", cluster=host.cluster, uri=simulated_host_uri("small.xml"),
                              status=HostStatus.UP)
        network = network_create(data_center=data_center, name="front", user=admin)
        attach(network, admin)
        Host.objects.filter(pk=resting.pk).update(status=HostStatus.MAINTENANCE)  # it keeps the network

        job = network_detach(network=network, user=admin)
        assert Network.objects.get(pk=network.pk).status == NetworkStatus.LOCKED
        assert [s["name"] for s in job.steps] == ["Remove network from a-host", "Remove network from b-host"]
        job = run_job(job)
        network.refresh_from_db()

        assert job.status == JobStatus.SUCCEEDED, job.error
        assert network.status == NetworkStatus.UNATTACHED
        for each in (host, resting):
            assert network_libvirt_name(network) not in [info.name for info in list_networks(each.uri)]
        event = Event.objects.get(code="network.unattached")
        assert event.message.endswith("(was locked): removed from host(s) a-host, b-host") and event.user == admin
        assert network_check_host(host=host) == []  # no longer wanted anywhere

    def test_it_detaches_a_vlan_network_and_an_inactive_one(self, data_center, host, admin):
        open_vswitch_bridge(host)
        network = network_create(data_center=data_center, name="prod", vlan=100, user=admin)
        attach(network, admin)
        assert detach(network, admin).status == JobStatus.SUCCEEDED
        assert network.status == NetworkStatus.UNATTACHED
        assert "ovsbr0" in [i.name() for i in hypervisor.get_connection(host.uri).listAllInterfaces(0)]

        Network.objects.filter(pk=network.pk).update(status=NetworkStatus.INACTIVE)
        assert detach(network, admin).status == JobStatus.SUCCEEDED  # nothing left there: fine
        assert network.status == NetworkStatus.UNATTACHED

    def test_an_unreachable_host_keeps_it_with_a_warning_but_the_others_are_cleaned(self, data_center, host, admin):
        network = network_create(data_center=data_center, name="front", user=admin)
        attach(network, admin)
        HostFactory(name="z-gone", cluster=host.cluster, uri=UNREACHABLE, status=HostStatus.NON_RESPONSIVE)

        job = detach(network, admin)

        assert job.status == JobStatus.SUCCEEDED
        assert job.steps[1]["status"] == StepStatus.FAILED
        assert network.status == NetworkStatus.UNATTACHED
        warning = Event.objects.get(code="network.host_failed")
        assert warning.severity == Severity.WARNING
        assert "could not be removed from host z-gone (its libvirt network" in warning.message
        assert Event.objects.get(code="network.unattached").message.endswith("; still defined on z-gone")

    def test_no_host_cleaned_fails_the_job_and_leaves_it_inactive(self, admin):
        gone = HostFactory(name="gone", uri=UNREACHABLE, status=HostStatus.NON_RESPONSIVE)
        network = network_create(data_center=gone.cluster.data_center, name="front", user=admin)
        Network.objects.filter(pk=network.pk).update(status=NetworkStatus.ACTIVE)

        job = detach(network, admin)

        assert job.status == JobStatus.FAILED
        assert job.error.startswith("Network front could not be removed from any host: gone: Host gone:")
        assert network.status == NetworkStatus.INACTIVE

    def test_refusals(self, data_center, host, admin):
        network = network_create(data_center=data_center, name="front", user=admin)
        with pytest.raises(Conflict, match="is unattached; only an active or inactive network can be detached"):
            network_detach(network=network, user=admin)
        Network.objects.filter(pk=network.pk).update(status=NetworkStatus.LOCKED)
        with pytest.raises(Conflict, match=r"is locked \(another job is working on it\)"):
            network_detach(network=network, user=admin)
        assert not Job.objects.exists()

    def test_a_network_that_nics_use_cannot_be_detached(self, data_center, host, admin):
        network = network_create(data_center=data_center, name="front", user=admin)
        attach(network, admin)
        nics_on(network, "web1", "web2")

        with pytest.raises(Conflict) as caught:
            network_detach(network=network, user=admin)

        assert caught.value.status_code == 409
        assert caught.value.detail == (
            "Network front cannot be detached: 2 VM NICs (web1 nic 0, web2 nic 0) use it. "
            "Remove those NICs or move them to another network first."
        )
        assert Network.objects.get(pk=network.pk).status == NetworkStatus.ACTIVE
        assert network_info(host.uri, network_libvirt_name(network)).active

    def test_a_nic_added_while_the_job_waited_puts_the_network_back_untouched(self, data_center, host, admin):
        network = network_create(data_center=data_center, name="front", user=admin)
        attach(network, admin)
        job = network_detach(network=network, user=admin)
        nics_on(network, "late")

        job = run_job(job)

        assert job.status == JobStatus.FAILED and "1 VM NIC (late nic 0) use it" in job.error
        assert Network.objects.get(pk=network.pk).status == NetworkStatus.ACTIVE
        assert network_info(host.uri, network_libvirt_name(network)).active


class TestRemove:
    def test_it_removes_an_unattached_network_with_an_event(self, data_center, admin):
        network = network_create(data_center=data_center, name="front", user=admin)
        network_remove(network=network, user=admin)
        assert not Network.objects.exists()
        assert Event.objects.get(code="network.removed").message == "Network front was removed by admin."

    @pytest.mark.parametrize("status", [NetworkStatus.ACTIVE, NetworkStatus.INACTIVE, NetworkStatus.LOCKED])
    def test_an_attached_network_must_be_detached_first(self, data_center, admin, status):
        network = network_create(data_center=data_center, name="front", user=admin)
        Network.objects.filter(pk=network.pk).update(status=status)

        with pytest.raises(Conflict, match=f"is {status}: detach it first"):
            network_remove(network=network, user=admin)
        assert Network.objects.exists()

    def test_a_network_that_nics_use_cannot_be_removed(self, data_center, admin):
        network = network_create(data_center=data_center, name="front", user=admin)
        nics_on(network, "db")

        assert network_usage(network) == [("VM NIC", 1, ["db nic 0"])]
        with pytest.raises(Conflict, match=r"cannot be removed: 1 VM NIC \(db nic 0\) use it"):
            network_remove(network=network, user=admin)
        assert Network.objects.exists() and not Event.objects.filter(code="network.removed").exists()
