"""VLAN networks on a namespaced host, for real: the attach job puts the network
on the host's Open vSwitch bridge, a guest's NIC on it becomes an access port of
the VLAN, and frames really are separated by VLAN.

The host runs Open vSwitch of its own (``testhost ovs``), with the userspace
datapath: this machine's kernel has neither the openvswitch module nor 802.1Q
(CONFIG_OPENVSWITCH and CONFIG_VLAN_8021Q are unset), and the userspace
datapath needs neither. Its bridge ovsbr0 is what an admin sets up on a real
host, with a trunk port (here the veth pttrk1; its peer pttrk0 plays the
switch upstream).

What reaches the guest is checked with raw sockets inside the host's namespace:
frames tagged VLAN 100 sent up the trunk must come out of the guest's tap
untagged, frames of VLAN 200 and untagged frames must not.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

import hypervisor
from core.models import JobStatus
from hypervisor.network import list_networks, network_info, remove_network
from inventory.choices import HostStatus, NetworkStatus
from inventory.models import Host
from inventory.services.network import (
    network_attach,
    network_check_host,
    network_create,
    network_detach,
    network_libvirt_name,
)
from tests.inventory.factories import HostFactory
from tests.plugins.multihost import guest_domain_xml
from tests.plugins.real import run_script
from tests.support.jobs import run_job

pytestmark = [pytest.mark.multihost, pytest.mark.django_db]

HOST = "alpha"
BRIDGE = "ovsbr0"
TRUNK, UPSTREAM = "pttrk1", "pttrk0"


# Runs inside the host's namespace: sends one broadcast frame per VLAN (0 =
# untagged) up the trunk, and reports which of them leave through the guest's tap
# and whether they still carry a tag (in the frame or in the kernel's metadata).
PROBE = r"""
import json, socket, struct, sys, time
send_if, sniff_if, vids = sys.argv[1], sys.argv[2], [int(v) for v in sys.argv[3].split(",")]
SOL_PACKET, PACKET_AUXDATA, TP_STATUS_VLAN_VALID = 263, 8, 1 << 4
sniff = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
sniff.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
sniff.bind((sniff_if, 0))
sniff.settimeout(0.2)
send = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
send.bind((send_if, 0))
for vid in vids:
    tag = struct.pack("!HH", 0x8100, vid) if vid else b""
    payload = f"pt-vlan-probe-{vid}".encode().ljust(46, b"\0")
    send.send(b"\xff" * 6 + bytes.fromhex("020000000001") + tag + struct.pack("!H", 0x88B5) + payload)
seen, deadline = {}, time.monotonic() + 2
while time.monotonic() < deadline:
    try:
        data, ancillary, _flags, _address = sniff.recvmsg(65535, socket.CMSG_SPACE(64))
    except socket.timeout:
        continue
    if b"pt-vlan-probe-" not in data:
        continue
    status = 0
    for level, kind, value in ancillary:
        if level == SOL_PACKET and kind == PACKET_AUXDATA:
            status = struct.unpack_from("I", value)[0]
    vid = data[data.index(b"pt-vlan-probe-") + 14:].split(b"\0")[0].decode()
    seen[vid] = data[12:14] == b"\x81\x00" or bool(status & TP_STATUS_VLAN_VALID)
print(json.dumps(seen))
"""


def ovs(*args: str) -> str:
    """ovs-vsctl against the host's own Open vSwitch (started if it is not)."""
    return run_script("testhost", "ovs", HOST, *args, timeout=60).strip()


def in_host(*command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", "netns", "exec", f"pt-{HOST}", *command], capture_output=True, text=True,
                          timeout=60, check=check)


@pytest.fixture
def ovs_host(testhost) -> Iterator:
    """The host with an Open vSwitch bridge (userspace datapath) and a trunk port."""
    host = testhost(HOST)
    for leftover in list_networks(host.uri):  # of an interrupted run
        if leftover.name.startswith("pt-net-") and leftover.bridge in (BRIDGE, "ptlinuxbr"):
            remove_network(host.uri, leftover.name)
    ovs("--may-exist", "add-br", BRIDGE, "--", "set", "bridge", BRIDGE, "datapath_type=netdev")
    in_host("ip", "link", "del", UPSTREAM, check=False)
    in_host("ip", "link", "add", UPSTREAM, "type", "veth", "peer", "name", TRUNK)
    for device in (UPSTREAM, TRUNK):
        in_host("ip", "link", "set", device, "up")
    ovs("--may-exist", "add-port", BRIDGE, TRUNK)
    yield host
    ovs("--if-exists", "del-br", BRIDGE)
    in_host("ip", "link", "del", UPSTREAM, check=False)
    hypervisor.close_all()


def attach(network, user):
    job = network_attach(network=network, user=user)
    job = run_job(job)
    network.refresh_from_db()
    return job


def virsh(uri: str, *args: str) -> str:
    done = subprocess.run(["virsh", "-c", uri, *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"virsh {' '.join(args)}: {done.stderr.strip()}"
    return done.stdout


def guest_on(uri: str, network_name: str, disk: Path, log: Path) -> tuple[str, str]:
    """Start (paused: its tap is plugged all the same) a guest with one NIC on
    the libvirt network, as the portal's VMs join networks (by libvirt name);
    returns (domain name, tap device)."""
    name = f"pt-vlan-{uuid.uuid4().hex[:6]}"
    dom = ET.fromstring(guest_domain_xml(name, name, disk, log, memory_mib=128))
    nic = ET.SubElement(dom.find("devices"), "interface", type="network")
    ET.SubElement(nic, "source", network=network_name)
    ET.SubElement(nic, "model", type="virtio")
    xml = disk.parent / f"{name}.xml"
    xml.write_text(ET.tostring(dom, encoding="unicode"))
    virsh(uri, "create", str(xml), "--paused")
    live = ET.fromstring(virsh(uri, "dumpxml", name))
    return name, live.find("devices/interface/target").get("dev")


def probe(tap: str, vlans: str) -> dict[str, bool]:
    in_host("ip", "link", "set", tap, "up")
    done = in_host(sys.executable, "-c", PROBE, UPSTREAM, tap, vlans)
    return json.loads(done.stdout)


def test_a_vlan_network_makes_the_guests_port_an_access_port_of_its_vlan(ovs_host, admin, shared_guest_disk):
    host = HostFactory(name=HOST, uri=ovs_host.uri, status=HostStatus.UP)
    network = network_create(data_center=host.cluster.data_center, name="prod", vlan=100, user=admin)
    assert network.bridge == BRIDGE
    name = network_libvirt_name(network)
    guest = None
    try:
        job = attach(network, admin)

        assert job.status == JobStatus.SUCCEEDED, job.error
        assert network.status == NetworkStatus.ACTIVE
        info = network_info(host.uri, name)
        assert (info.bridge, info.vlan, info.openvswitch, info.active) == (BRIDGE, 100, True, True)
        assert network_check_host(host=host) == []

        started = time.monotonic()
        guest, tap = guest_on(host.uri, name, shared_guest_disk, shared_guest_disk.parent / "serial.log")
        print(f"guest {guest} started paused in {time.monotonic() - started:.2f}s, tap {tap}")
        assert ovs("get", "port", tap, "tag") == "100"
        assert ovs("get", "port", TRUNK, "tag") == "[]"  # the trunk carries every VLAN

        seen = probe(tap, "100,200,0")

        assert seen == {"100": False}, f"VLAN 100 must reach the guest untagged, nothing else: {seen}"

        virsh(host.uri, "destroy", guest)
        guest = None
        job = network_detach(network=network, user=admin)
        job = run_job(job)
        assert job.status == JobStatus.SUCCEEDED, job.error
        assert name not in [each.name for each in list_networks(host.uri)]
        assert BRIDGE in ovs("list-br").split()  # the host's bridge is the admin's: it stays
    finally:
        if guest is not None:
            virsh(host.uri, "destroy", guest)
        remove_network(host.uri, name)


def test_a_host_whose_bridge_is_missing_or_a_linux_bridge_goes_non_operational(ovs_host, admin):
    host = HostFactory(name=HOST, uri=ovs_host.uri, status=HostStatus.UP)
    missing = network_create(data_center=host.cluster.data_center, name="nowhere", vlan=5, bridge="ptnobr",
                             user=admin)
    in_host("ip", "link", "add", "ptlinuxbr", "type", "bridge")
    linux = network_create(data_center=host.cluster.data_center, name="linux", vlan=6, bridge="ptlinuxbr",
                           user=admin)
    try:
        job = attach(missing, admin)
        assert job.status == JobStatus.FAILED
        assert "has no network device ptnobr: a VLAN network needs an Open vSwitch bridge" in job.error
        host.refresh_from_db()
        assert host.status == HostStatus.NON_OPERATIONAL and "network nowhere missing" in host.status_reason

        Host.objects.filter(pk=host.pk).update(status=HostStatus.UP)
        job = attach(linux, admin)
        assert job.status == JobStatus.FAILED
        assert "ptlinuxbr on qemu+tcp://" in job.error and "is a Linux bridge" in job.error
        assert network_libvirt_name(linux) not in [each.name for each in list_networks(host.uri)]
    finally:
        in_host("ip", "link", "del", "ptlinuxbr", check=False)
