"""The typed domain specs: vCPU counts, disk targets, frozen fields, normalised MACs and UUIDs, libvirt's own ordering."""

import dataclasses

import pytest

from hypervisor import CpuTopology, DiskSpec, DomainSpec, GraphicsSpec, InvalidSpec, NicSpec, SerialSpec
from hypervisor.specs import GuestNumaCell, TimerSpec, VcpuPin, format_id_set, parse_id_set


def vm(**fields) -> DomainSpec:
    return DomainSpec(name="vm", memory_mb=512, **fields)


TWO_CELLS = (GuestNumaCell(0, (0,), 256), GuestNumaCell(1, (1,), 256))


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


def test_it_defaults_to_what_libvirt_does_with_usb_and_a_balloon_and_adds_nothing_else():
    spec = vm()

    assert (spec.usb, spec.memballoon) == (True, True)
    assert (spec.sound_model, spec.rng, spec.guest_agent) == (None, False, False)
    assert (spec.hugepages, spec.boot_menu) == (False, False)
    assert (spec.cpu_mode, spec.cpu_model, spec.clock_offset, spec.hyperv, spec.timers) == (None, None, "utc", (), ())
    assert (spec.iothreads, spec.numa_cells, spec.vcpu_pins) == (0, (), ())
    assert (spec.kernel, spec.initrd, spec.cmdline, spec.smbios_family) == (None, None, "", None)


def test_it_keeps_an_empty_cdrom_tray_and_makes_every_cdrom_read_only():
    empty = DiskSpec(None, format="raw", bus="sata", device="cdrom")

    assert empty.path is None
    assert empty.readonly is True
    assert DiskSpec("/iso/x.iso", format="raw", bus="ide", device="cdrom").readonly is True


def test_it_orders_pins_enlightenments_and_cpu_sets_as_libvirt_writes_them_back():
    spec = vm(
        topology=CpuTopology(cores=2),
        vcpu_pins=[VcpuPin(1, [7, 3, 5]), VcpuPin(0, (2,))],
        hyperv=["frequencies", "relaxed", "spinlocks"],
        numa_cells=[GuestNumaCell(0, [1, 0], 512, host_nodes=[1, 0])],
    )

    assert spec.vcpu_pins == (VcpuPin(0, (2,)), VcpuPin(1, (3, 5, 7)))
    assert spec.hyperv == ("relaxed", "spinlocks", "frequencies")
    assert spec.numa_cells == (GuestNumaCell(0, (0, 1), 512, host_nodes=(0, 1)),)


@pytest.mark.parametrize(
    ("numbers", "text"), [((), ""), ((3,), "3"), ((0, 1, 2, 3), "0-3"), ((0, 2, 3, 4, 7, 9, 10), "0,2-4,7,9-10")]
)
def test_it_writes_and_reads_cpu_sets_like_libvirt(numbers, text):
    assert format_id_set(numbers) == text
    assert parse_id_set(text) == numbers


def test_it_reads_exclusions_in_cpu_sets():
    assert parse_id_set("0-7,^3-4, 9") == (0, 1, 2, 5, 6, 7, 9)


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
            "either boot devices or per-device boot orders",
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
        # Disks, CD-ROMs, IO threads, boot.
        (lambda: DiskSpec(None), "Only a CD-ROM drive may be empty"),
        (lambda: DiskSpec("/iso/x.iso", format="raw", device="cdrom"), "on the ide, sata, scsi bus"),
        (lambda: DiskSpec("/d/a", bus="sata", iothread=1), "Only virtio disks can use an IO thread"),
        (lambda: DiskSpec("/d/a", iothread=0), "Disk IO thread must be a positive"),
        (lambda: vm(disks=[DiskSpec("/d/a", iothread=2)], iothreads=1), "uses IO thread 2, but the domain has 1"),
        (lambda: vm(disks=[DiskSpec("/d/a", iothread=1)]), "uses IO thread 1, but the domain has 0"),
        (lambda: vm(iothreads=-1), "IO threads must be a whole number"),
        (lambda: NicSpec(network="default", boot_order=0), "NIC boot order must be a positive"),
        (
            lambda: vm(
                boot_devices=(), disks=[DiskSpec("/d/a", boot_order=1)], nics=[NicSpec(network="n", boot_order=1)]
            ),
            "Two devices have the same boot order",
        ),
        (lambda: vm(nics=[NicSpec(network="n", boot_order=1)]), "either boot devices or per-device boot orders"),
        (lambda: vm(kernel="vmlinuz"), "Kernel path must be absolute"),
        (lambda: vm(initrd="/boot/initrd"), "needs a kernel"),
        (lambda: vm(cmdline="quiet"), "needs a kernel"),
        (lambda: vm(kernel="/boot/vmlinuz", cmdline="a\nb"), "Kernel command line must be a single line"),
        (lambda: vm(boot_menu="yes"), "Boot menu must be True or False"),
        # CPU and NUMA.
        (lambda: vm(cpu_mode="host"), "CPU mode must be one of custom, host-model, host-passthrough, maximum"),
        (lambda: vm(cpu_mode="custom"), "CPU mode custom needs a CPU model"),
        (lambda: vm(cpu_mode="maximum", cpu_model="Haswell"), "A CPU model goes only with CPU mode custom"),
        (lambda: vm(cpu_model="Haswell"), "A CPU model goes only with CPU mode custom"),
        (lambda: vm(vcpu_pins=[VcpuPin(1, (0,))]), "vCPU 1 is pinned, but the domain has only vCPUs 0-0"),
        (lambda: vm(vcpu_pins=[VcpuPin(0, (0,)), VcpuPin(0, (1,))]), "pinned only once"),
        (lambda: VcpuPin(0, ()), "pinned to no host CPU"),
        (lambda: VcpuPin(-1, (0,)), "Pinned vCPU must be a whole number from 0 up"),
        (lambda: VcpuPin(0, (1, 1)), "lists a number twice"),
        (lambda: VcpuPin(0, "0-3"), "must be a list of numbers"),
        (lambda: vm(vcpu_pins=[(0, 1)]), "Each vCPU pin must be a VcpuPin"),
        (lambda: GuestNumaCell(0, (0,), 0), "Memory (MiB) of guest NUMA cell 0 must be a positive"),
        (lambda: vm(topology=CpuTopology(cores=2), numa_cells=TWO_CELLS[::-1]), "numbered 0, 1, 2... in order"),
        (lambda: vm(numa_cells=TWO_CELLS), "hold each of the vCPUs 0-0 exactly once"),
        (
            lambda: vm(topology=CpuTopology(cores=2), numa_cells=[GuestNumaCell(0, (0, 1), 128)]),
            "adds up to 128 MiB, not the domain's 512 MiB",
        ),
        (
            lambda: vm(
                topology=CpuTopology(cores=2),
                numa_cells=[GuestNumaCell(0, (0,), 256, host_nodes=(0,)), GuestNumaCell(1, (1,), 256)],
            ),
            "Bind either every guest NUMA cell to host nodes or none",
        ),
        # Clock, Hyper-V, devices.
        (lambda: vm(clock_offset="gmt"), "Clock offset must be one of localtime, utc"),
        (lambda: TimerSpec("tick"), "Timer must be one of"),
        (lambda: TimerSpec("rtc", tickpolicy="later"), "Tick policy of the rtc timer must be one of"),
        (lambda: TimerSpec("hpet", present="no"), "Presence of the hpet timer must be True or False"),
        (lambda: vm(timers=[TimerSpec("rtc"), TimerSpec("rtc")]), "Each timer may appear only once"),
        (lambda: vm(hyperv=("turbo",)), "Hyper-V enlightenment must be one of"),
        (lambda: vm(hyperv=("relaxed", "relaxed")), "only once"),
        (lambda: vm(hyperv=("synic",)), "synic needs vpindex"),
        (lambda: vm(hyperv=("vpindex", "stimer")), "stimer needs synic"),
        (lambda: vm(hyperv=("vpindex", "synic", "stimer")), "stimer needs the hypervclock timer"),
        (lambda: vm(sound_model="sb128"), "Sound model must be one of"),
        (lambda: vm(usb=None), "USB must be True or False"),
        (lambda: vm(memballoon=0), "Memory balloon must be True or False"),
        (lambda: vm(smbios_family="a\nb"), "SMBIOS family must be a single line"),
    ],
)
def test_it_refuses_invalid_specs_saying_why(make, why):
    with pytest.raises(InvalidSpec) as caught:
        make()
    assert why in caught.value.message
