"""Bridge networks on simulated hosts (libvirt's test driver keeps networks in
memory per host; it creates no device) and, in the real lane, on the real
libvirtd, where starting the network creates the Linux bridge."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator

import pytest
from lxml import etree

from hypervisor import Conflict, InvalidSpec, InvalidXML, NotFound
from hypervisor.network import (
    BridgeNetworkSpec,
    HostInterface,
    NetworkInfo,
    build_network_xml,
    check_openvswitch_bridge,
    ensure_bridge_network,
    host_interface,
    list_networks,
    network_info,
    parse_network_xml,
    remove_network,
)


def add_host_interface(uri: str, name: str, *, kind: str = "ethernet", mtu: int = 1500) -> None:
    """A network device on a simulated host (the test driver keeps interfaces in
    memory): kind "ethernet" is what an Open vSwitch bridge looks like through
    libvirt's interface API, "bridge" a Linux bridge."""
    import hypervisor

    root = etree.Element("interface", type=kind, name=name)
    etree.SubElement(root, "start", mode="onboot")
    etree.SubElement(root, "mtu", size=str(mtu))
    if kind == "bridge":
        etree.SubElement(etree.SubElement(root, "bridge"), "interface", type="ethernet", name=f"{name}-port")
    else:
        etree.SubElement(root, "mac", address="52:54:00:00:00:99")
    hypervisor.get_connection(uri).interfaceDefineXML(etree.tostring(root, encoding="unicode"), 0).create(0)


class TestSpec:
    def test_xml_is_an_isolated_network_owning_its_bridge(self):
        xml = build_network_xml(BridgeNetworkSpec(name="pt-net-1", bridge="ptbr1", mtu=1400))
        root = etree.fromstring(xml)
        assert root.tag == "network" and root.findtext("name") == "pt-net-1"
        assert root.find("bridge").attrib == {"name": "ptbr1", "stp": "on"}
        assert root.find("mtu").get("size") == "1400"
        assert root.find("forward") is None and root.find("ip") is None
        assert parse_network_xml(xml) == BridgeNetworkSpec(name="pt-net-1", bridge="ptbr1", mtu=1400)

    @pytest.mark.parametrize("bridge", ["", "x" * 16, "br 0", "br/0", ".", "..", "brü"])
    def test_a_bridge_that_is_no_interface_name_is_refused(self, bridge):
        with pytest.raises(InvalidSpec, match="not a Linux interface name"):
            BridgeNetworkSpec(name="n", bridge=bridge)

    @pytest.mark.parametrize("mtu", [0, 67, 65536, "1500", True])
    def test_a_bad_mtu_is_refused(self, mtu):
        with pytest.raises(InvalidSpec, match="MTU"):
            BridgeNetworkSpec(name="n", bridge="br0", mtu=mtu)

    @pytest.mark.parametrize("name", ["", "  ", "a/b", "a\nb"])
    def test_a_bad_name_is_refused(self, name):
        with pytest.raises(InvalidSpec):
            BridgeNetworkSpec(name=name, bridge="br0")

    def test_a_vlan_makes_it_a_tagged_network_on_an_open_vswitch_bridge(self):
        spec = BridgeNetworkSpec(name="pt-net-2", bridge="ovsbr0", mtu=1500, vlan=100)
        root = etree.fromstring(build_network_xml(spec))

        assert root.find("forward").attrib == {"mode": "bridge"}
        assert root.find("bridge").attrib == {"name": "ovsbr0"}
        assert root.find("virtualport").get("type") == "openvswitch"
        assert root.find("vlan/tag").get("id") == "100"
        assert root.find("mtu") is None  # libvirt refuses <mtu> in bridge mode: the bridge's MTU rules
        assert spec.openvswitch and parse_network_xml(build_network_xml(spec)) == spec

    @pytest.mark.parametrize("vlan", [0, 4095, 5000, "100", True])
    def test_a_bad_vlan_is_refused(self, vlan):
        with pytest.raises(InvalidSpec, match="VLAN"):
            BridgeNetworkSpec(name="n", bridge="ovsbr0", vlan=vlan)

    def test_an_open_vswitch_network_without_a_tag_is_not_ours(self):
        xml = ("<network><name>n</name><forward mode='bridge'/><bridge name='ovsbr0'/>"
               "<virtualport type='openvswitch'/></network>")
        with pytest.raises(InvalidXML, match="tags no VLAN"):
            parse_network_xml(xml)

    def test_a_forwarding_network_is_not_ours(self):
        xml = "<network><name>n</name><forward mode='nat'/><bridge name='virbr0'/></network>"
        with pytest.raises(InvalidXML, match="forwards"):
            parse_network_xml(xml)


class TestOnSimulatedHost:
    def test_ensure_defines_starts_and_autostarts_idempotently(self, small_host):
        spec = BridgeNetworkSpec(name="pt-net-1", bridge="ptbr1", mtu=1400)

        first = ensure_bridge_network(small_host, spec)
        again = ensure_bridge_network(small_host, spec)

        assert first == again == NetworkInfo(name="pt-net-1", bridge="ptbr1", active=True, mtu=1400)
        assert network_info(small_host, "pt-net-1") == first
        assert "pt-net-1" in [info.name for info in list_networks(small_host)]

    def test_a_stopped_network_is_started_again(self, small_host):
        import hypervisor

        spec = BridgeNetworkSpec(name="pt-net-1", bridge="ptbr1")
        ensure_bridge_network(small_host, spec)
        hypervisor.get_connection(small_host).networkLookupByName("pt-net-1").destroy()
        assert not network_info(small_host, "pt-net-1").active

        assert ensure_bridge_network(small_host, spec).active

    def test_another_network_owning_the_bridge_is_a_conflict(self, small_host):
        ensure_bridge_network(small_host, BridgeNetworkSpec(name="pt-net-1", bridge="ptbr1"))

        with pytest.raises(Conflict, match="already belongs to the network 'pt-net-1'"):
            ensure_bridge_network(small_host, BridgeNetworkSpec(name="pt-net-2", bridge="ptbr1"))
        assert "pt-net-2" not in [info.name for info in list_networks(small_host)]

    def test_the_same_name_with_another_bridge_or_mtu_is_left_alone(self, small_host):
        ensure_bridge_network(small_host, BridgeNetworkSpec(name="pt-net-1", bridge="ptbr1"))

        with pytest.raises(Conflict, match="it is left as it is"):
            ensure_bridge_network(small_host, BridgeNetworkSpec(name="pt-net-1", bridge="ptbr2"))
        with pytest.raises(Conflict, match="MTU 1500"):
            ensure_bridge_network(small_host, BridgeNetworkSpec(name="pt-net-1", bridge="ptbr1", mtu=9000))
        assert network_info(small_host, "pt-net-1").bridge == "ptbr1"

    def test_a_vlan_network_is_defined_on_the_hosts_open_vswitch_bridge(self, small_host):
        add_host_interface(small_host, "ovsbr0", mtu=9000)
        spec = BridgeNetworkSpec(name="pt-net-7", bridge="ovsbr0", mtu=9000, vlan=100)

        info = ensure_bridge_network(small_host, spec)

        assert info == NetworkInfo(name="pt-net-7", bridge="ovsbr0", active=True, mtu=None, vlan=100,
                                   openvswitch=True)
        assert ensure_bridge_network(small_host, spec) == info  # idempotent
        # Tagged networks share the bridge, one VLAN each.
        other = ensure_bridge_network(small_host, BridgeNetworkSpec(name="pt-net-8", bridge="ovsbr0", mtu=9000,
                                                                    vlan=200))
        assert (other.vlan, other.bridge) == (200, "ovsbr0")
        with pytest.raises(Conflict, match="VLAN 100 .*not bridge ovsbr0, VLAN 300"):
            ensure_bridge_network(small_host, BridgeNetworkSpec(name="pt-net-7", bridge="ovsbr0", mtu=9000, vlan=300))
        # An untagged network cannot take a bridge tagged networks use, nor the other way round.
        with pytest.raises(Conflict, match="already belongs to the network 'pt-net-7'"):
            ensure_bridge_network(small_host, BridgeNetworkSpec(name="pt-net-9", bridge="ovsbr0"))

    def test_a_vlan_network_needs_the_open_vswitch_bridge_with_its_mtu(self, small_host):
        spec = BridgeNetworkSpec(name="pt-net-3", bridge="ovsbr0", mtu=1500, vlan=100)
        with pytest.raises(Conflict, match="has no network device ovsbr0: a VLAN network needs an Open vSwitch"):
            ensure_bridge_network(small_host, spec)

        add_host_interface(small_host, "ovsbr0", kind="bridge")
        with pytest.raises(Conflict, match="ovsbr0 on .* is a Linux bridge"):
            ensure_bridge_network(small_host, spec)
        assert host_interface(small_host, "ovsbr0") == HostInterface(name="ovsbr0", type="bridge", mtu=1500,
                                                                     active=True)

        add_host_interface(small_host, "ovsbr1", mtu=1500)
        with pytest.raises(Conflict, match="has MTU 1500, not 9000"):
            check_openvswitch_bridge(small_host, "ovsbr1", mtu=9000)
        assert "pt-net-3" not in [info.name for info in list_networks(small_host)]

    def test_an_untagged_network_on_a_bridge_tagged_ones_use_stops_the_tagged_one(self, small_host):
        ensure_bridge_network(small_host, BridgeNetworkSpec(name="pt-net-1", bridge="ptbr1"))
        add_host_interface(small_host, "ptbr1")

        with pytest.raises(Conflict, match="belongs to the untagged network 'pt-net-1'"):
            ensure_bridge_network(small_host, BridgeNetworkSpec(name="pt-net-2", bridge="ptbr1", vlan=5))

    def test_remove_forgets_it_and_removing_twice_is_fine(self, small_host):
        ensure_bridge_network(small_host, BridgeNetworkSpec(name="pt-net-1", bridge="ptbr1"))

        assert remove_network(small_host, "pt-net-1") is True
        assert remove_network(small_host, "pt-net-1") is False
        with pytest.raises(NotFound):
            network_info(small_host, "pt-net-1")


# ---- the real lane -------------------------------------------------------------

TEST_PREFIX = "ptbr-test-"


def ip_link(bridge: str, netns: str | None = None) -> subprocess.CompletedProcess[str]:
    prefix = ["ip", "netns", "exec", netns] if netns else []
    return subprocess.run([*prefix, "ip", "-d", "link", "show", bridge], capture_output=True, text=True)


@pytest.fixture
def real_name(libvirtd: str) -> Iterator[str]:
    """A unique name (used for the network and its bridge); leftovers of an
    interrupted run are removed first."""
    for leftover in list_networks(libvirtd):
        if leftover.name.startswith(TEST_PREFIX):
            remove_network(libvirtd, leftover.name)
    name = f"{TEST_PREFIX}{uuid.uuid4().hex[:5]}"  # 15 characters: a valid bridge name
    yield name
    remove_network(libvirtd, name)


@pytest.mark.real
def test_real_bridge_is_created_when_started_and_goes_with_the_network(libvirtd, real_name):
    info = ensure_bridge_network(libvirtd, BridgeNetworkSpec(name=real_name, bridge=real_name, mtu=1400))

    assert info == NetworkInfo(name=real_name, bridge=real_name, active=True, mtu=1400)
    link = ip_link(real_name)
    assert link.returncode == 0, link.stderr
    assert " bridge " in link.stdout and "mtu 1400" in link.stdout
    assert ensure_bridge_network(libvirtd, BridgeNetworkSpec(name=real_name, bridge=real_name, mtu=1400)) == info
    autostart = subprocess.run(["virsh", "-c", libvirtd, "net-info", real_name], capture_output=True, text=True)
    assert "Autostart:      yes" in autostart.stdout and "Persistent:     yes" in autostart.stdout

    assert remove_network(libvirtd, real_name)
    assert ip_link(real_name).returncode != 0
