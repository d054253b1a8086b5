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


@pytest.mark.parametrize("spec", [MINIMAL, FULL, PER_DISK_BOOT], ids=["minimal", "full", "per-disk-boot"])
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


def test_it_parses_libvirts_own_xml_back_into_the_same_spec(small_host):
    uuid = define_domain(small_host, dataclasses.replace(FULL, uuid=None))

    assert parse_domain_xml(domain_xml(small_host, uuid)) == dataclasses.replace(FULL, uuid=uuid)


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
    ],
)
def test_it_refuses_xml_it_cannot_describe(xml, why):
    with pytest.raises(InvalidXML) as caught:
        parse_domain_xml(xml)
    assert why in caught.value.message
