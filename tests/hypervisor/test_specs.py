import dataclasses

import pytest

from hypervisor import CpuTopology, DiskSpec, DomainSpec, GraphicsSpec, InvalidSpec, NicSpec, SerialSpec


def test_it_counts_vcpus_from_the_topology():
    spec = DomainSpec(name="vm", memory_mb=512, topology=CpuTopology(sockets=2, cores=3, threads=2))

    assert spec.topology.total == 12
    assert spec.vcpus == 12


def test_it_names_disks_per_bus_in_order_skipping_taken_targets():
    spec = DomainSpec(
        name="vm",
        memory_mb=512,
        disks=[
            DiskSpec("/d/0.qcow2"),
            DiskSpec("/d/1.qcow2", target="vdb"),
            DiskSpec("/d/2.qcow2"),
            DiskSpec("/d/cd.iso", format="raw", bus="sata", device="cdrom"),
            DiskSpec("/d/old.img", format="raw", bus="ide"),
        ],
    )

    assert [d.target for d in spec.disks] == ["vda", "vdb", "vdc", "sda", "hda"]


def test_it_freezes_lists_and_metadata():
    metadata = {"owner": "alice"}
    spec = DomainSpec(name="vm", memory_mb=512, nics=[NicSpec(network="default")], metadata=metadata)
    metadata["owner"] = "mallory"

    assert spec.nics == (NicSpec(network="default"),)
    assert spec.metadata == {"owner": "alice"}
    with pytest.raises(TypeError):
        spec.metadata["owner"] = "mallory"
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.name = "other"
    assert hash(spec) == hash(DomainSpec(name="vm", memory_mb=512, nics=[NicSpec(network="default")]))


def test_it_normalizes_mac_and_uuid_to_lower_case():
    spec = DomainSpec(
        name="vm",
        memory_mb=512,
        uuid="3F0E4A54-8A0E-4C1B-9F5E-0A1B2C3D4E5F",
        nics=[NicSpec(bridge="br0", mac="52:54:00:AB:CD:EF")],
    )

    assert spec.uuid == "3f0e4a54-8a0e-4c1b-9f5e-0a1b2c3d4e5f"
    assert spec.nics[0].mac == "52:54:00:ab:cd:ef"


@pytest.mark.parametrize(
    ("make", "why"),
    [
        (lambda: DomainSpec(name="", memory_mb=512), "name must not be empty"),
        (lambda: DomainSpec(name="a/b", memory_mb=512), "contains '/'"),
        (lambda: DomainSpec(name="a\x00b", memory_mb=512), "cannot be stored in XML"),
        (lambda: DomainSpec(name="vm", memory_mb=0), "Memory (MiB) must be a positive"),
        (lambda: DomainSpec(name="vm", memory_mb=-5), "Memory (MiB) must be a positive"),
        (lambda: DomainSpec(name="vm", memory_mb=True), "Memory (MiB) must be a positive"),
        (lambda: CpuTopology(sockets=0), "CPU sockets must be a positive"),
        (lambda: CpuTopology(cores=2, threads=-1), "CPU threads must be a positive"),
        (lambda: DomainSpec(name="vm", memory_mb=512, domain_type="xen"), "Domain type must be one of"),
        (lambda: DomainSpec(name="vm", memory_mb=512, uuid="nope"), "is not a UUID"),
        (lambda: DomainSpec(name="vm", memory_mb=512, title="two\nlines"), "Title must be a single line"),
        (lambda: DomainSpec(name="vm", memory_mb=512, boot_devices=("hd", "hd")), "only once"),
        (lambda: DomainSpec(name="vm", memory_mb=512, boot_devices=("usb",)), "Boot device must be one of"),
        (
            lambda: DomainSpec(name="vm", memory_mb=512, disks=[DiskSpec("/d/a", boot_order=1)]),
            "either boot devices or per-disk boot orders",
        ),
        (
            lambda: DomainSpec(name="vm", memory_mb=512, disks=[DiskSpec("/d/a", target="vdb"), DiskSpec("/d/b", target="vdb")]),
            "same target",
        ),
        (lambda: DomainSpec(name="vm", memory_mb=512, disks=["/d/a"]), "Each disk must be a DiskSpec"),
        (lambda: DomainSpec(name="vm", memory_mb=512, metadata={"": "x"}), "Metadata keys must not be empty"),
        (
            lambda: DomainSpec(name="vm", memory_mb=512, graphics=[GraphicsSpec(), GraphicsSpec()]),
            "one graphics device of each type",
        ),
        (lambda: DiskSpec("/d/a", bus="floppy"), "Disk bus must be one of"),
        (lambda: DiskSpec("relative.qcow2"), "must be absolute"),
        (lambda: DiskSpec("/d/a", format="vmdk"), "Disk format must be one of"),
        (lambda: DiskSpec("/d/a", bus="virtio", target="sda"), "does not fit the virtio bus"),
        (lambda: NicSpec(), "exactly one of network or bridge"),
        (lambda: NicSpec(network="a", bridge="b"), "exactly one of network or bridge"),
        (lambda: NicSpec(network="default", mac="52:54:00:12:34"), "is not of the form"),
        (lambda: NicSpec(network="default", mac="01:00:5e:00:00:01"), "multicast"),
        (lambda: NicSpec(network="default", model="ne2k"), "NIC model must be one of"),
        (lambda: GraphicsSpec(type="rdp"), "Graphics type must be one of"),
        (lambda: GraphicsSpec(listen="localhost"), "not an IP address"),
        (lambda: GraphicsSpec(port=22), "5900-65535"),
        (lambda: SerialSpec(type="file"), "needs a path"),
        (lambda: SerialSpec(type="pty", path="/tmp/x"), "takes no path"),
    ],
)
def test_it_refuses_invalid_specs_saying_why(make, why):
    with pytest.raises(InvalidSpec) as caught:
        make()
    assert why in caught.value.message
