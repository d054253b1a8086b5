"""Domain XML built from typed specs and parsed back."""

import dataclasses

import libvirt
import pytest
from lxml import etree

from hypervisor import (
    PORTAL_NS,
    CpuTopology,
    DiskSpec,
    DomainSpec,
    GraphicsSpec,
    InvalidXML,
    NicSpec,
    SerialSpec,
    build_domain_xml,
    define_domain,
    domain_xml,
    get_connection,
    parse_domain_xml,
)
from hypervisor.specs import HYPERV_FEATURES, GuestNumaCell, TimerSpec, VcpuPin

NASTY = "a<b&\"c'"

MINIMAL = DomainSpec(name="vm1", memory_mb=512, domain_type="test")

FULL = DomainSpec(
    name=NASTY,
    uuid="3f0e4a54-8a0e-4c1b-9f5e-0a1b2c3d4e5f",
    title=f"title {NASTY}",
    description=f"first line {NASTY}\nsecond ]]> line",
    memory_mb=2048,
    topology=CpuTopology(sockets=1, cores=2, threads=2),
    domain_type="test",
    machine="pc-q35-7.2",
    boot_devices=("cdrom", "hd"),
    disks=(
        DiskSpec("/var/lib/portal/disk0.qcow2"),
        DiskSpec("/var/lib/portal/data.raw", format="raw", bus="scsi"),
        DiskSpec("/var/lib/portal/install.iso", format="raw", bus="sata", device="cdrom", readonly=True),
    ),
    nics=(
        NicSpec(network="default", mac="52:54:00:aa:bb:cc"),
        NicSpec(bridge="br0", model="e1000", mac="52:54:00:00:00:01"),
    ),
    graphics=(GraphicsSpec(), GraphicsSpec(type="spice", port=5999)),
    serials=(SerialSpec(), SerialSpec(type="file", path="/var/log/portal/vm1-serial.log")),
    smbios_serial=f"host {NASTY}",
    video_model="virtio",
    on_poweroff="preserve",
    on_reboot="destroy",
    on_crash="coredump-restart",
    metadata={"owner": NASTY, "vm-id": "42"},
)

PER_DISK_BOOT = DomainSpec(
    name="vm2",
    memory_mb=256,
    domain_type="qemu",
    boot_devices=(),
    disks=(DiskSpec("/d/a.qcow2", boot_order=2), DiskSpec("/d/b.qcow2", boot_order=1)),
    graphics=(GraphicsSpec(password="s3cr<t&"),),
    video_model=None,
    acpi=False,
)


# Everything the optimization profiles use, at once.
TUNED = DomainSpec(
    name="tuned",
    uuid="3f0e4a54-8a0e-4c1b-9f5e-0a1b2c3d4e60",
    memory_mb=3072,
    topology=CpuTopology(sockets=2, cores=2),
    domain_type="test",
    boot_devices=(),
    boot_menu=True,
    kernel="/var/lib/portal/boot/vmlinuz",
    initrd="/var/lib/portal/boot/initrd.img",
    cmdline="console=ttyS0 root=/dev/vda1 quiet",
    disks=(
        DiskSpec("/var/lib/portal/os.qcow2", boot_order=2, iothread=1),
        DiskSpec("/var/lib/portal/data.qcow2", iothread=2),
        DiskSpec(None, format="raw", bus="sata", device="cdrom"),
        DiskSpec("/var/lib/portal/install.iso", format="raw", bus="ide", device="cdrom", boot_order=1),
    ),
    nics=(NicSpec(bridge="br0", mac="52:54:00:aa:bb:01", boot_order=3),),
    graphics=(GraphicsSpec(type="spice"),),
    video_model="qxl",
    smbios_serial="tuned",
    smbios_family="acpi-poweroff",
    cpu_mode="host-passthrough",
    numa_cells=(
        GuestNumaCell(0, (0, 1), 1024, host_nodes=(0,)),
        GuestNumaCell(1, (2, 3), 2048, host_nodes=(1, 2)),
    ),
    vcpu_pins=(VcpuPin(0, (0,)), VcpuPin(1, (1, 2, 3)), VcpuPin(2, (8,)), VcpuPin(3, (9, 11))),
    hugepages=True,
    iothreads=2,
    clock_offset="localtime",
    timers=(
        TimerSpec("rtc", tickpolicy="catchup"),
        TimerSpec("pit", tickpolicy="delay"),
        TimerSpec("hpet", present=False),
        TimerSpec("hypervclock", present=True),
    ),
    hyperv=HYPERV_FEATURES,
    sound_model="ich9",
    rng=True,
    guest_agent=True,
    metadata={"vm-id": "43"},
)

HEADLESS = DomainSpec(
    name="headless",
    memory_mb=128,
    domain_type="qemu",
    cpu_mode="maximum",
    graphics=(),
    video_model=None,
    serials=(SerialSpec(type="file", path="/var/log/portal/headless.log"), SerialSpec()),
    usb=False,
    memballoon=False,
)

CUSTOM_CPU = DomainSpec(name="custom-cpu", memory_mb=256, cpu_mode="custom", cpu_model="Haswell-noTSX")

ALL = [MINIMAL, FULL, PER_DISK_BOOT, TUNED, HEADLESS, CUSTOM_CPU]
ALL_IDS = ["minimal", "full", "per-disk-boot", "tuned", "headless", "custom-cpu"]


@pytest.mark.parametrize("spec", ALL, ids=ALL_IDS)
def test_it_parses_back_exactly_what_it_built(spec):
    assert parse_domain_xml(build_domain_xml(spec)) == spec


def test_it_escapes_markup_in_text_and_attributes():
    xml = build_domain_xml(FULL)
    root = etree.fromstring(xml.encode())

    assert "a&lt;b&amp;" in xml
    assert root.findtext("name") == NASTY
    assert root.findtext("title") == f"title {NASTY}"
    assert root.findtext("description") == f"first line {NASTY}\nsecond ]]> line"
    assert root.find(f"metadata/{{{PORTAL_NS}}}vm/{{{PORTAL_NS}}}entry[@key='owner']").text == NASTY


def test_it_keeps_portal_tags_in_its_own_namespace():
    root = etree.fromstring(build_domain_xml(FULL).encode())

    (portal,) = root.find("metadata")
    assert portal.tag == f"{{{PORTAL_NS}}}vm"
    assert PORTAL_NS.startswith("urn:")
    assert {e.get("key"): e.text for e in portal} == {"owner": NASTY, "vm-id": "42"}


def test_it_is_accepted_by_libvirt_which_reads_back_name_title_and_description(small_host):
    uuid = define_domain(small_host, FULL)
    domain = get_connection(small_host).lookupByUUIDString(uuid)

    assert uuid == FULL.uuid
    assert domain.name() == NASTY
    assert domain.metadata(libvirt.VIR_DOMAIN_METADATA_TITLE, None) == f"title {NASTY}"
    assert domain.metadata(libvirt.VIR_DOMAIN_METADATA_DESCRIPTION, None) == f"first line {NASTY}\nsecond ]]> line"


# Not PER_DISK_BOOT: libvirt hides its graphics password and picks a video card for it.
@pytest.mark.parametrize("spec", [MINIMAL, FULL, TUNED, HEADLESS, CUSTOM_CPU], ids=lambda s: s.name)
def test_it_parses_libvirts_own_xml_back_into_the_same_spec(small_host, spec):
    uuid = define_domain(small_host, dataclasses.replace(spec, uuid=None))

    assert parse_domain_xml(domain_xml(small_host, uuid)) == dataclasses.replace(spec, uuid=uuid)


def test_it_writes_the_profile_settings_where_libvirt_looks_for_them():
    root = etree.fromstring(build_domain_xml(TUNED).encode())

    assert root.find("memoryBacking/hugepages") is not None
    assert root.findtext("iothreads") == "2"
    assert [(p.get("vcpu"), p.get("cpuset")) for p in root.iterfind("cputune/vcpupin")] == [
        ("0", "0"), ("1", "1-3"), ("2", "8"), ("3", "9,11"),
    ]  # fmt: skip
    assert [dict(m.attrib) for m in root.find("numatune")] == [
        {"mode": "strict", "nodeset": "0-2"},
        {"cellid": "0", "mode": "strict", "nodeset": "0"},
        {"cellid": "1", "mode": "strict", "nodeset": "1-2"},
    ]
    assert [dict(c.attrib) for c in root.iterfind("cpu/numa/cell")] == [
        {"id": "0", "cpus": "0-1", "memory": "1024", "unit": "MiB"},
        {"id": "1", "cpus": "2-3", "memory": "2048", "unit": "MiB"},
    ]
    assert root.find("cpu").get("mode") == "host-passthrough"
    assert [e.tag for e in root.find("features/hyperv")] == list(HYPERV_FEATURES)
    assert root.find("features/hyperv/spinlocks").get("retries") == "8191"
    assert root.find("clock").get("offset") == "localtime"
    assert [(e.tag, e.text) for e in root.find("os")][1:4] == [
        ("kernel", "/var/lib/portal/boot/vmlinuz"),
        ("initrd", "/var/lib/portal/boot/initrd.img"),
        ("cmdline", "console=ttyS0 root=/dev/vda1 quiet"),
    ]
    assert root.find("os/bootmenu").get("enable") == "yes"
    assert [e.get("name") for e in root.iterfind("sysinfo/system/entry")] == ["serial", "family"]
    assert [d.find("driver").get("iothread") for d in root.iterfind("devices/disk")] == ["1", "2", None, None]
    assert root.find("devices/disk[@device='cdrom']").find("source") is None  # the empty tray
    assert root.find("devices/interface/boot").get("order") == "3"
    assert root.find("devices/channel/target").get("name") == "org.qemu.guest_agent.0"
    assert root.find("devices/input").attrib == {"type": "tablet", "bus": "usb"}
    assert root.find("devices/sound").get("model") == "ich9"
    assert root.find("devices/rng/backend").text == "/dev/urandom"


def test_it_writes_a_headless_domain_without_graphics_video_usb_or_balloon_and_a_console_on_serial_0():
    root = etree.fromstring(build_domain_xml(HEADLESS).encode())
    devices = root.find("devices")

    assert devices.find("graphics") is None and devices.find("video") is None
    assert devices.find("input") is None
    assert devices.find("controller[@type='usb']").get("model") == "none"
    assert devices.find("memballoon").get("model") == "none"
    console = devices.find("console")
    assert (console.get("type"), console.find("source").get("path")) == ("file", "/var/log/portal/headless.log")
    assert console.find("target").attrib == {"type": "serial", "port": "0"}
    assert root.find("cpu").get("mode") == "maximum"


# What QEMU's libvirt 9.0 hands back for a domain we defined (trimmed): addresses,
# controllers and inputs it adds, KiB units, check='none', a pty path once running.
QEMU_DUMPXML = """
<domain type='qemu' id='3'>
  <name>from-qemu</name>
  <uuid>f18a1b56-c4fb-47b1-93d6-981f0c85deb2</uuid>
  <memory unit='KiB'>131072</memory>
  <currentMemory unit='KiB'>131072</currentMemory>
  <vcpu placement='static'>2</vcpu>
  <iothreads>1</iothreads>
  <cputune><vcpupin vcpu='0' cpuset='0'/><vcpupin vcpu='1' cpuset='1'/></cputune>
  <numatune><memory mode='strict' nodeset='0'/><memnode cellid='0' mode='strict' nodeset='0'/></numatune>
  <os><type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type><boot dev='hd'/></os>
  <features><acpi/><apic/>
    <hyperv mode='custom'><relaxed state='on'/><vapic state='on'/><spinlocks state='on' retries='8191'/>
      <vendor_id state='off'/><reset state='on'/><frequencies state='on'/></hyperv>
  </features>
  <cpu mode='maximum' check='none'>
    <topology sockets='1' dies='1' cores='2' threads='1'/>
    <numa><cell id='0' cpus='0-1' memory='131072' unit='KiB'/></numa>
  </cpu>
  <clock offset='localtime'><timer name='hpet' present='no'/></clock>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2' iothread='1'/><source file='/tmp/d.qcow2' index='1'/>
      <backingStore/><target dev='vda' bus='virtio'/><alias name='virtio-disk0'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x06' function='0x0'/>
    </disk>
    <disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/><target dev='sda' bus='sata'/><readonly/>
      <address type='drive' controller='0' bus='0' target='0' unit='0'/>
    </disk>
    <controller type='usb' index='0' model='piix3-uhci'/>
    <controller type='pci' index='0' model='pci-root'/>
    <controller type='sata' index='0'/>
    <controller type='virtio-serial' index='0'/>
    <serial type='pty'>
      <source path='/dev/pts/3'/><target type='isa-serial' port='0'><model name='isa-serial'/></target>
    </serial>
    <console type='pty' tty='/dev/pts/3'><source path='/dev/pts/3'/><target type='serial' port='0'/></console>
    <channel type='unix'>
      <source mode='bind' path='/var/lib/libvirt/qemu/channel/target/domain-3-from-qemu/org.qemu.guest_agent.0'/>
      <target type='virtio' name='org.qemu.guest_agent.0' state='disconnected'/>
    </channel>
    <input type='tablet' bus='usb'/><input type='mouse' bus='ps2'/><input type='keyboard' bus='ps2'/>
    <audio id='1' type='none'/>
    <sound model='ich9'/>
    <memballoon model='none'/>
    <rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>
  </devices>
</domain>
"""


def test_it_reads_what_qemus_libvirt_hands_back():
    spec = parse_domain_xml(QEMU_DUMPXML)

    assert spec == DomainSpec(
        name="from-qemu",
        uuid="f18a1b56-c4fb-47b1-93d6-981f0c85deb2",
        memory_mb=128,
        topology=CpuTopology(cores=2),
        domain_type="qemu",
        machine="pc-i440fx-7.2",
        disks=(DiskSpec("/tmp/d.qcow2", iothread=1), DiskSpec(None, format="raw", bus="sata", device="cdrom")),
        serials=(SerialSpec(),),
        video_model=None,
        cpu_mode="maximum",
        numa_cells=(GuestNumaCell(0, (0, 1), 128, host_nodes=(0,)),),
        vcpu_pins=(VcpuPin(0, (0,)), VcpuPin(1, (1,))),
        iothreads=1,
        clock_offset="localtime",
        timers=(TimerSpec("hpet", present=False),),
        hyperv=("relaxed", "vapic", "spinlocks", "reset", "frequencies"),
        usb=True,
        sound_model="ich9",
        memballoon=False,
        rng=True,
        guest_agent=True,
    )


@pytest.mark.parametrize(
    ("devices", "usb", "memballoon"),
    [
        ("", True, True),  # QEMU adds a USB controller and a virtio balloon unless told not to
        ("<controller type='usb' model='qemu-xhci'/><memballoon model='virtio'/>", True, True),
        ("<controller type='usb' model='none'/><memballoon model='none'/>", False, False),
    ],
)
def test_it_reads_usb_and_the_balloon_with_qemus_defaults(devices, usb, memballoon):
    xml = (
        "<domain type='kvm'><name>x</name><memory>1024</memory><vcpu>1</vcpu><os><type>hvm</type></os>"
        f"<devices>{devices}</devices></domain>"
    )

    spec = parse_domain_xml(xml)

    assert (spec.usb, spec.memballoon) == (usb, memballoon)


@pytest.mark.parametrize(
    ("cpu", "mode", "model"),
    [
        ("<cpu mode='custom' check='none'><model fallback='forbid'>qemu64</model></cpu>", "custom", "qemu64"),
        ("<cpu><model>Haswell</model></cpu>", "custom", "Haswell"),  # custom is libvirt's default mode
        ("<cpu mode='custom'><topology sockets='1' cores='1' threads='1'/></cpu>", None, None),
        ("<cpu mode='host-model' check='partial'><model fallback='allow'/></cpu>", "host-model", None),
        ("<cpu mode='host-passthrough' check='none' migratable='on'/>", "host-passthrough", None),
    ],
)
def test_it_reads_the_cpu_mode_and_model(cpu, mode, model):
    xml = f"<domain type='kvm'><name>x</name><memory>1024</memory><vcpu>1</vcpu><os><type>hvm</type></os>{cpu}</domain>"

    spec = parse_domain_xml(xml)

    assert (spec.cpu_mode, spec.cpu_model) == (mode, model)


def test_it_reads_cpu_sets_in_any_libvirt_syntax():
    xml = (
        "<domain type='kvm'><name>x</name><memory>1024</memory><vcpu>1</vcpu><os><type>hvm</type></os>"
        "<cputune><vcpupin vcpu='0' cpuset='0-5,^2,9'/></cputune></domain>"
    )

    assert parse_domain_xml(xml).vcpu_pins == (VcpuPin(0, (0, 1, 3, 4, 5, 9)),)


@pytest.mark.parametrize(
    ("memory", "memory_mb"),
    [
        ("<memory>1048576</memory>", 1024),  # libvirt's default unit is KiB
        ("<memory unit='GiB'>2</memory>", 2048),
        ("<memory unit='bytes'>536870912</memory>", 512),
    ],
)
def test_it_reads_memory_in_any_libvirt_unit(memory, memory_mb):
    root = etree.fromstring(build_domain_xml(MINIMAL).encode())
    root.replace(root.find("memory"), etree.fromstring(memory))

    assert parse_domain_xml(etree.tostring(root, encoding="unicode")).memory_mb == memory_mb


@pytest.mark.parametrize(
    ("xml", "why"),
    [
        ("<domain><name>x</name", "not well-formed"),
        ("<network><name>x</name></network>", "Expected a <domain>"),
        ("<domain type='kvm'><name>x</name></domain>", "no <os/type>"),
        (
            "<domain type='kvm'><name>x</name><memory>1024</memory><vcpu>1</vcpu><os><type>hvm</type></os>"
            "<devices><disk type='network' device='disk'/></devices></domain>",
            "Disks of type 'network'",
        ),
        (
            "<domain type='kvm'><name>x</name><memory>1024</memory><vcpu>1</vcpu><os><type>hvm</type></os>"
            "<devices><sound model='ich9'/><sound model='ac97'/></devices></domain>",
            "More than one sound card",
        ),
        (
            "<domain type='kvm'><name>x</name><memory>1024</memory><vcpu>1</vcpu><os><type>hvm</type></os>"
            "<numatune><memnode cellid='0' mode='interleave' nodeset='0-1'/></numatune>"
            "<cpu><numa><cell id='0' cpus='0' memory='1024'/></numa></cpu></domain>",
            "NUMA memory mode 'interleave'",
        ),
    ],
)
def test_it_refuses_xml_it_cannot_describe(xml, why):
    with pytest.raises(InvalidXML) as caught:
        parse_domain_xml(xml)
    assert why in caught.value.message
