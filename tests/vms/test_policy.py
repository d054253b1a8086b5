"""vms.policy: what an OS type and an optimization profile put into the domain.

The golden files in tests/vms/golden pin the whole XML of four representative
wizard choices byte for byte. After an intended change, regenerate them with

    UPDATE_GOLDEN=1 .venv/bin/pytest -q tests/vms/test_policy.py

and read the diff (``git diff tests/vms/golden``) before committing it.
"""

from __future__ import annotations

import ast
import dataclasses
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from hypervisor import close_all, define_domain, domain_xml, undefine_domain
from hypervisor.domain_xml import build_domain_xml, parse_domain_xml
from hypervisor.specs import (
    HYPERV_FEATURES,
    CpuTopology,
    DiskSpec,
    DomainSpec,
    GraphicsSpec,
    GuestNumaCell,
    InvalidSpec,
    NumaCell,
    SerialSpec,
    TimerSpec,
    VcpuPin,
)
from vms import policy
from vms.policy import (
    OPTIMIZATIONS,
    serial_log_path,
    PROFILE_EFFECTS,
    BootOverride,
    HostTraits,
    OsProfile,
    PlannedDisk,
    PlannedNic,
    VmPlan,
    domain_spec_for,
    numa_placement,
)

GOLDEN = Path(__file__).parent / "golden"
LOCKED_PASSWORD = re.compile(r'passwd="[A-Za-z0-9]+"')
TEST_DRIVER = "test:///default"

WIN10 = OsProfile(
    short_id="win10", family="windows", virtio=True, disk_bus="virtio", nic_model="virtio",
    video_model="qxl", clock_offset="localtime", hyperv=True, guest_agent=True,
)  # fmt: skip
DEBIAN = OsProfile(
    short_id="debian11", family="linux", virtio=True, disk_bus="virtio", nic_model="virtio",
    video_model="virtio", clock_offset="utc", hyperv=False, guest_agent=True,
)  # fmt: skip
WINXP = OsProfile(
    short_id="winxp", family="windows", virtio=False, disk_bus="ide", nic_model="e1000",
    video_model="cirrus", clock_offset="localtime", hyperv=False, guest_agent=True,
)  # fmt: skip

KVM = HostTraits(domain_type="kvm")
TCG = HostTraits(domain_type="qemu")
TWO_CELLS = (
    NumaCell(index=0, cpus=(0, 1, 2, 3), memory_mb=4096),
    NumaCell(index=1, cpus=(4, 5, 6, 7), memory_mb=4096),
)
KVM_TWO_CELLS = HostTraits(domain_type="kvm", numa_cells=TWO_CELLS)


def plan(**changes) -> VmPlan:
    base = VmPlan(
        name="vm",
        uuid="00000000-0000-4000-8000-000000000001",
        memory_mb=1024,
        topology=CpuTopology(sockets=1, cores=2),
        optimization="server",
        os=DEBIAN,
        disks=(PlannedDisk("/var/lib/portal/vm/os.qcow2", "qcow2", bootable=True),),
        nics=(PlannedNic("52:54:00:00:00:01", network="default"),),
    )
    return dataclasses.replace(base, **changes)


GOLDEN_CASES: dict[str, tuple[VmPlan, HostTraits]] = {
    "windows_desktop": (
        VmPlan(
            name="win10 <desk> & \"co\"",
            uuid="5d1b5a3e-6a0e-4f43-9b36-0f6e1d4c7a01",
            memory_mb=4096,
            topology=CpuTopology(sockets=1, cores=2, threads=1),
            optimization="desktop",
            os=WIN10,
            disks=(PlannedDisk("/var/lib/portal/images/win10-desk.qcow2", "qcow2", bootable=True),),
            nics=(PlannedNic("52:54:00:10:00:01", network="default"),),
            console="spice",
            description="Alice's desktop <for> testing & \"quotes\"",
            smbios_serial="win10-desk",
            metadata={"vm-id": "17", "owner": "alice"},
            max_memory_mb=16384,  # grows live by DIMMs: one flat guest NUMA cell
            max_vcpus=8,  # four sockets of two cores; two run at start
        ),
        KVM,
    ),
    "linux_server": (
        VmPlan(
            name="debian-web",
            uuid="5d1b5a3e-6a0e-4f43-9b36-0f6e1d4c7a02",
            memory_mb=2048,
            topology=CpuTopology(sockets=2, cores=1, threads=1),
            optimization="server",
            os=DEBIAN,
            disks=(
                PlannedDisk("/var/lib/portal/images/debian-web.qcow2", "qcow2", bootable=True),
                PlannedDisk("/var/lib/portal/images/debian-web-data.raw", "raw"),
            ),
            nics=(PlannedNic("52:54:00:10:00:02", bridge="br0"),),
            console="vnc",
            smbios_serial="debian-web",
            smbios_family="acpi-poweroff",
            metadata={"vm-id": "18"},
            boot_order=("hd", "cdrom", "network"),  # the disk, an empty CD-ROM drive, then PXE from the NIC
            max_memory_mb=8192,
            max_vcpus=8,
        ),
        TCG,
    ),
    "high_performance_numa": (
        VmPlan(
            name="hp-db",
            uuid="5d1b5a3e-6a0e-4f43-9b36-0f6e1d4c7a03",
            memory_mb=6144,  # more than one host cell holds: spread over both
            topology=CpuTopology(sockets=2, cores=2, threads=1),
            optimization="high_performance",
            os=DEBIAN,
            disks=(PlannedDisk("/var/lib/portal/images/hp-db.qcow2", "qcow2", bootable=True),),
            nics=(PlannedNic("52:54:00:10:00:03", network="default"),),
            console="vnc",  # ignored: high performance is headless
            metadata={"vm-id": "19"},
            max_memory_mb=24576,  # ignored: pinned vCPUs and bound memory are not hot-plugged
            max_vcpus=16,
        ),
        KVM_TWO_CELLS,
    ),
    "legacy_no_virtio": (
        VmPlan(
            name="winxp-legacy",
            uuid="5d1b5a3e-6a0e-4f43-9b36-0f6e1d4c7a04",
            memory_mb=512,
            topology=CpuTopology(),
            optimization="server",
            os=WINXP,
            disks=(
                PlannedDisk("/var/lib/portal/images/winxp.qcow2", "qcow2", bootable=True),
                PlannedDisk("/var/lib/portal/images/winxp-data.qcow2", "qcow2", bus="sata"),
            ),
            nics=(PlannedNic("52:54:00:10:00:04", network="default"),),
            console="vnc",
        ),
        TCG,
    ),
}


@pytest.fixture
def test_driver() -> Iterator[str]:
    """libvirt's in-process test driver; every domain defined here is undefined again."""
    yield TEST_DRIVER
    close_all()


def accepted_by_test_driver(spec: DomainSpec) -> DomainSpec:
    """Define ``spec`` on the test driver, read libvirt's XML back, undefine it."""
    uuid = define_domain(TEST_DRIVER, spec)
    try:
        return parse_domain_xml(domain_xml(TEST_DRIVER, uuid))
    finally:
        undefine_domain(TEST_DRIVER, uuid)


# --- golden files -------------------------------------------------------------------


@pytest.mark.parametrize("case", sorted(GOLDEN_CASES))
def test_it_writes_the_golden_xml_byte_for_byte(case):
    vm_plan, host = GOLDEN_CASES[case]
    # A locked console's password is random on every build (and never known):
    # the golden file pins that there is one, not its letters.
    xml = LOCKED_PASSWORD.sub('passwd="(random)"', build_domain_xml(domain_spec_for(vm_plan, host)))
    golden = GOLDEN / f"{case}.xml"

    if os.environ.get("UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(xml, encoding="utf-8")
    assert golden.exists(), f"{golden} is missing: run with UPDATE_GOLDEN=1 to write it"
    assert xml == golden.read_text(encoding="utf-8"), f"{case}: the XML changed; see this module's docstring"


@pytest.mark.parametrize("case", sorted(GOLDEN_CASES))
def test_it_has_libvirts_test_driver_accept_every_golden_spec(case, test_driver):
    vm_plan, host = GOLDEN_CASES[case]
    spec = domain_spec_for(vm_plan, host)

    assert accepted_by_test_driver(spec) == spec


@pytest.mark.parametrize("optimization", OPTIMIZATIONS)
@pytest.mark.parametrize("os_profile", [WIN10, DEBIAN, WINXP], ids=lambda o: o.short_id)
def test_it_produces_what_the_test_driver_accepts_for_every_profile(optimization, os_profile, test_driver):
    host = HostTraits(domain_type="test", numa_cells=TWO_CELLS)
    vm_plan = plan(name=f"td-{optimization}-{os_profile.short_id}", optimization=optimization, os=os_profile)
    spec = domain_spec_for(vm_plan, host, BootOverride("cdrom", iso_path="/iso/install.iso", boot_menu=True))

    assert accepted_by_test_driver(spec) == spec


def test_it_keeps_xml_metacharacters_of_names_and_descriptions_intact():
    vm_plan, host = GOLDEN_CASES["windows_desktop"]
    spec = domain_spec_for(vm_plan, host)
    xml = build_domain_xml(spec)

    assert "win10 &lt;desk&gt; &amp; \"co\"" in xml
    assert parse_domain_xml(xml).name == 'win10 <desk> & "co"'
    assert parse_domain_xml(xml).description == "Alice's desktop <for> testing & \"quotes\""


# --- the profiles ---------------------------------------------------------------------


def test_it_gives_a_desktop_sound_usb_with_a_tablet_a_balloon_and_the_chosen_console():
    spec = domain_spec_for(plan(optimization="desktop", console="spice"), KVM)

    assert spec.sound_model == "ich9"
    assert spec.usb is True
    assert "<input type=\"tablet\" bus=\"usb\"/>" in build_domain_xml(spec)
    assert spec.memballoon is True
    assert spec.iothreads == 0 and all(d.iothread is None for d in spec.disks)
    assert spec.graphics == (GraphicsSpec(type="spice", locked=True),)
    assert spec.video_model == "virtio"  # the OS's


def test_it_gives_a_server_no_sound_an_io_thread_for_its_virtio_disks_and_a_balloon():
    vm_plan = plan(
        disks=(PlannedDisk("/d/os.qcow2", "qcow2", bootable=True), PlannedDisk("/d/legacy.raw", "raw", bus="sata"))
    )

    spec = domain_spec_for(vm_plan, KVM)

    assert spec.sound_model is None
    assert spec.iothreads == 1
    assert [(d.bus, d.iothread) for d in spec.disks] == [("virtio", 1), ("sata", None)]
    assert spec.memballoon is True
    assert spec.usb is True
    assert spec.cpu_mode is None
    assert spec.graphics == (GraphicsSpec(type="vnc", locked=True),)


def test_it_runs_high_performance_headless_with_a_serial_console_and_nothing_extra():
    spec = domain_spec_for(plan(optimization="high_performance", console="spice"), KVM)
    xml = build_domain_xml(spec)

    assert spec.graphics == () and spec.video_model is None
    assert "<graphics" not in xml and "<video" not in xml
    assert spec.serials == (logged_serial(),)
    assert '<console type="pty">' in xml
    assert spec.memballoon is False and '<memballoon model="none"/>' in xml
    assert spec.usb is False and '<controller type="usb" index="0" model="none"/>' in xml
    assert "tablet" not in xml and "<sound" not in xml and "watchdog" not in xml
    assert spec.iothreads == 1 and spec.disks[0].iothread == 1
    assert spec.rng is True


@pytest.mark.parametrize(
    ("domain_type", "cpu_mode"), [("kvm", "host-passthrough"), ("qemu", "maximum"), ("test", "host-passthrough")]
)
def test_it_passes_the_host_cpu_through_or_the_emulators_maximum_under_tcg(domain_type, cpu_mode):
    spec = domain_spec_for(plan(optimization="high_performance"), HostTraits(domain_type=domain_type))

    assert (spec.cpu_mode, spec.cpu_model) == (cpu_mode, None)


def test_it_leaves_numa_alone_without_host_cells_or_outside_high_performance():
    assert domain_spec_for(plan(optimization="high_performance"), KVM).numa_cells == ()
    for optimization in ("desktop", "server"):
        spec = domain_spec_for(plan(optimization=optimization), KVM_TWO_CELLS)
        assert (spec.numa_cells, spec.vcpu_pins) == ((), ())


def test_it_keeps_a_vm_that_fits_one_host_cell_on_that_cell_pinned_cpu_by_cpu():
    vm_plan = plan(optimization="high_performance", memory_mb=2048, topology=CpuTopology(cores=4))

    spec = domain_spec_for(vm_plan, KVM_TWO_CELLS)

    assert spec.numa_cells == (GuestNumaCell(0, (0, 1, 2, 3), 2048, host_nodes=(0,)),)
    assert spec.vcpu_pins == tuple(VcpuPin(vcpu, (vcpu,)) for vcpu in range(4))
    xml = build_domain_xml(spec)
    assert '<memnode cellid="0" mode="strict" nodeset="0"/>' in xml
    assert '<cell id="0" cpus="0-3" memory="2048" unit="MiB"/>' in xml


def test_it_spreads_a_vm_over_as_few_host_cells_as_hold_its_memory():
    cells, pins = numa_placement(4, 6144, TWO_CELLS)

    assert cells == (
        GuestNumaCell(0, (0, 1), 3072, host_nodes=(0,)),
        GuestNumaCell(1, (2, 3), 3072, host_nodes=(1,)),
    )
    assert pins == (VcpuPin(0, (0,)), VcpuPin(1, (1,)), VcpuPin(2, (4,)), VcpuPin(3, (5,)))


def test_it_spreads_a_vm_over_as_few_host_cells_as_hold_its_vcpus():
    cells, pins = numa_placement(6, 1024, TWO_CELLS)

    assert [(c.cpus, c.memory_mb, c.host_nodes) for c in cells] == [((0, 1, 2), 512, (0,)), ((3, 4, 5), 512, (1,))]
    assert [p.cpus for p in pins] == [(0,), (1,), (2,), (4,), (5,), (6,)]


def test_it_picks_the_host_cell_that_fits_when_cells_differ():
    small_and_big = (NumaCell(0, (0, 1), 1024), NumaCell(1, (2, 3, 4, 5), 8192))

    cells, pins = numa_placement(4, 4096, small_and_big)

    assert cells == (GuestNumaCell(0, (0, 1, 2, 3), 4096, host_nodes=(1,)),)
    assert [p.cpus for p in pins] == [(2,), (3,), (4,), (5,)]


def test_it_does_not_pin_a_vm_bigger_than_the_host():
    assert numa_placement(9, 1024, TWO_CELLS) == ((), ())
    assert numa_placement(2, 9000, TWO_CELLS) == ((), ())


def test_it_never_asks_for_huge_pages_these_hosts_cannot_give():
    spec = domain_spec_for(plan(optimization="high_performance"), KVM_TWO_CELLS)

    assert spec.hugepages is False


# --- the OS -------------------------------------------------------------------------


def test_it_gives_windows_local_time_its_timers_and_hyper_v_enlightenments():
    spec = domain_spec_for(plan(os=WIN10), KVM)

    assert spec.clock_offset == "localtime"
    assert spec.timers == (
        TimerSpec("rtc", tickpolicy="catchup"),
        TimerSpec("pit", tickpolicy="delay"),
        TimerSpec("hpet", present=False),
        TimerSpec("hypervclock", present=True),
    )
    assert spec.hyperv == HYPERV_FEATURES
    assert '<spinlocks state="on" retries="8191"/>' in build_domain_xml(spec)


def test_it_leaves_out_the_enlightenments_tcg_refuses():
    spec = domain_spec_for(plan(os=WIN10), TCG)

    assert spec.hyperv == ("relaxed", "vapic", "spinlocks", "reset", "frequencies")
    assert TimerSpec("hypervclock", present=True) in spec.timers


def test_it_gives_linux_utc_and_no_windows_timers():
    spec = domain_spec_for(plan(os=DEBIAN), KVM)

    assert (spec.clock_offset, spec.timers, spec.hyperv) == ("utc", (), ())


def test_it_gives_an_os_without_virtio_emulated_disks_and_nics_and_no_virtio_extras():
    spec = domain_spec_for(plan(os=WINXP, optimization="high_performance"), KVM)

    assert [d.bus for d in spec.disks] == ["ide"]
    assert [d.target for d in spec.disks] == ["hda"]
    assert [n.model for n in spec.nics] == ["e1000"]
    assert spec.iothreads == 1 and spec.disks[0].iothread is None  # IO threads serve virtio disks only
    assert (spec.memballoon, spec.rng, spec.guest_agent) == (False, False, False)


def test_it_lets_a_planned_disk_or_nic_choose_its_own_bus_and_model():
    vm_plan = plan(
        disks=(PlannedDisk("/d/a.qcow2", "qcow2", bus="sata"),),
        nics=(PlannedNic("52:54:00:00:00:09", bridge="br0", model="rtl8139"),),
    )

    spec = domain_spec_for(vm_plan, KVM)

    assert spec.disks[0].bus == "sata"
    assert (spec.nics[0].model, spec.nics[0].bridge, spec.nics[0].mac) == ("rtl8139", "br0", "52:54:00:00:00:09")


def test_it_adds_the_guest_agent_channel_when_the_os_has_an_agent():
    with_agent = domain_spec_for(plan(os=DEBIAN), KVM)
    without = domain_spec_for(plan(os=dataclasses.replace(DEBIAN, guest_agent=False)), KVM)

    assert with_agent.guest_agent is True
    assert 'name="org.qemu.guest_agent.0"' in build_domain_xml(with_agent)
    assert without.guest_agent is False


def test_it_passes_identity_smbios_and_metadata_through():
    vm_plan = plan(description="d", smbios_serial="s", smbios_family="acpi-poweroff", metadata={"vm-id": "7"})

    spec = domain_spec_for(vm_plan, KVM)

    assert (spec.name, spec.uuid, spec.memory_mb, spec.topology) == ("vm", vm_plan.uuid, 1024, vm_plan.topology)
    assert (spec.description, spec.smbios_serial, spec.smbios_family) == ("d", "s", "acpi-poweroff")
    assert spec.metadata == {"vm-id": "7"}
    assert spec.domain_type == "kvm"


# --- boot and Run Once ---------------------------------------------------------------


def test_it_boots_the_bootable_disk_first():
    vm_plan = plan(disks=(PlannedDisk("/d/data.qcow2", "qcow2"), PlannedDisk("/d/os.qcow2", "qcow2", bootable=True)))

    spec = domain_spec_for(vm_plan, KVM)

    assert [(d.path, d.boot_order) for d in spec.disks] == [("/d/data.qcow2", None), ("/d/os.qcow2", 1)]
    assert spec.boot_devices == ()


def test_it_falls_back_to_booting_the_hard_disk_when_nothing_is_bootable():
    spec = domain_spec_for(plan(disks=()), KVM)

    assert spec.boot_devices == ("hd",)


def test_it_boots_a_run_once_iso_first_from_a_cdrom_drive():
    spec = domain_spec_for(plan(), KVM, BootOverride(boot_device="cdrom", iso_path="/iso/debian.iso"))

    cdrom = spec.disks[-1]
    assert (cdrom.device, cdrom.path, cdrom.bus, cdrom.readonly, cdrom.boot_order) == (
        "cdrom", "/iso/debian.iso", "sata", True, 1,
    )  # fmt: skip
    assert spec.disks[0].boot_order == 2


def test_it_puts_the_cdrom_on_ide_for_an_os_that_only_knows_ide():
    spec = domain_spec_for(plan(os=WINXP), KVM, BootOverride(boot_device="cdrom", iso_path="/iso/xp.iso"))

    assert [(d.device, d.bus, d.target) for d in spec.disks] == [("disk", "ide", "hda"), ("cdrom", "ide", "hdb")]


def test_it_inserts_an_iso_without_booting_it_when_the_disk_boots():
    spec = domain_spec_for(plan(), KVM, BootOverride(boot_device="hd", iso_path="/iso/drivers.iso"))

    assert [(d.device, d.boot_order) for d in spec.disks] == [("disk", 1), ("cdrom", None)]


def test_it_refuses_to_boot_from_cd_without_an_iso():
    with pytest.raises(InvalidSpec, match="needs an ISO"):
        BootOverride(boot_device="cdrom")


def test_it_boots_from_the_network_through_the_first_nic():
    vm_plan = plan(nics=(PlannedNic("52:54:00:00:00:01", network="a"), PlannedNic("52:54:00:00:00:02", network="b")))

    spec = domain_spec_for(vm_plan, KVM, BootOverride(boot_device="network"))

    assert [n.boot_order for n in spec.nics] == [1, None]
    assert spec.disks[0].boot_order == 2
    assert '<boot order="1"/>' in build_domain_xml(spec)


def test_it_refuses_a_network_boot_without_a_nic():
    with pytest.raises(InvalidSpec, match="needs a network interface"):
        domain_spec_for(plan(nics=()), KVM, BootOverride(boot_device="network"))


def test_it_boots_a_kernel_directly_with_its_initrd_and_command_line():
    boot = BootOverride(kernel="/boot/vmlinuz", initrd="/boot/initrd.img", cmdline="console=ttyS0 quiet")

    spec = domain_spec_for(plan(), KVM, boot)

    assert (spec.kernel, spec.initrd, spec.cmdline) == ("/boot/vmlinuz", "/boot/initrd.img", "console=ttyS0 quiet")
    assert "<cmdline>console=ttyS0 quiet</cmdline>" in build_domain_xml(spec)


def test_it_refuses_an_initrd_without_a_kernel():
    with pytest.raises(InvalidSpec, match="needs a kernel"):
        domain_spec_for(plan(), KVM, BootOverride(initrd="/boot/initrd.img"))


def test_it_shows_the_boot_menu_when_asked():
    assert domain_spec_for(plan(), KVM, BootOverride(boot_menu=True)).boot_menu is True
    assert domain_spec_for(plan(), KVM).boot_menu is False


def test_it_lets_run_once_choose_the_console_even_for_a_headless_vm():
    vnc_vm = domain_spec_for(plan(console="vnc"), KVM, BootOverride(console="spice"))
    headless = domain_spec_for(plan(optimization="high_performance"), KVM, BootOverride(console="vnc"))

    assert vnc_vm.graphics == (GraphicsSpec(type="spice", locked=True),)
    assert headless.graphics == (GraphicsSpec(type="vnc", locked=True),) and headless.video_model == "virtio"
    assert headless.serials == (logged_serial(),)


def test_it_never_saves_run_once_choices_in_the_plan():
    vm_plan = plan()

    domain_spec_for(vm_plan, KVM, BootOverride("cdrom", iso_path="/iso/x.iso", boot_menu=True))

    assert domain_spec_for(vm_plan, KVM) == domain_spec_for(vm_plan, KVM, None)
    assert not any(d.device == "cdrom" for d in domain_spec_for(vm_plan, KVM).disks)


def test_a_vm_without_graphical_console_keeps_its_serial_console():
    spec = domain_spec_for(plan(console="none"), KVM)

    assert (spec.graphics, spec.video_model, spec.serials) == ((), None, (logged_serial(),))


def test_every_vm_keeps_its_serial_output_as_a_boot_log_on_the_host():
    spec = domain_spec_for(plan(), KVM)

    assert spec.serials == (logged_serial(),)
    assert spec.serials[0].log_path == f"/var/log/libvirt/qemu/{spec.uuid}-serial.log"


def logged_serial() -> SerialSpec:
    return SerialSpec(type="pty", log_path=serial_log_path(plan().uuid))


# --- the contract ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "why"),
    [
        (lambda: plan(optimization="gaming"), "Optimization must be one of"),
        (lambda: plan(console="rdp"), "Console must be one of"),
        (lambda: BootOverride(boot_device="floppy"), "Run Once boot device must be one of"),
        (lambda: BootOverride(console="none"), "Run Once console must be one of"),
        (lambda: HostTraits(domain_type="xen"), "Domain type must be one of"),
        (lambda: dataclasses.replace(DEBIAN, family="beos"), "OS family must be one of"),
        (lambda: dataclasses.replace(DEBIAN, disk_bus="floppy"), "OS disk bus must be one of"),
        (lambda: dataclasses.replace(DEBIAN, clock_offset="gmt"), "OS clock offset must be one of"),
    ],
)
def test_it_refuses_unknown_choices_saying_why(make, why):
    with pytest.raises(InvalidSpec) as caught:
        make()
    assert why in caught.value.message


def test_it_describes_every_profile_in_plain_sentences():
    assert tuple(PROFILE_EFFECTS) == OPTIMIZATIONS
    for sentences in PROFILE_EFFECTS.values():
        assert sentences and all(s[0].isupper() and s.endswith(".") for s in sentences)


def test_it_depends_on_hypervisor_specs_only():
    tree = ast.parse(Path(policy.__file__).read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}

    standard_library = {"__future__", "collections", "dataclasses", "itertools", "types"}
    assert {name.split(".")[0] for name in imported} <= standard_library | {"hypervisor"}
    assert {name for name in imported if name.startswith("hypervisor")} == {"hypervisor.specs"}


def test_it_hands_back_a_spec_that_survives_the_xml_round_trip():
    for vm_plan, host in GOLDEN_CASES.values():
        spec = domain_spec_for(vm_plan, host)
        assert parse_domain_xml(build_domain_xml(spec)) == spec
        assert all(isinstance(d, DiskSpec) for d in spec.disks)


def test_a_vm_too_small_for_memory_hot_plug_gets_no_memory_ceiling():
    # 128 MiB with a hot-plug range panics at boot on the real host (see vms.policy).
    small = plan(memory_mb=128, max_memory_mb=512, max_vcpus=4)
    spec = domain_spec_for(small, TCG)
    assert (spec.max_memory_mb, spec.memory_slots, spec.numa_cells, spec.max_vcpus) == (None, 0, (), 4)
    spec = domain_spec_for(dataclasses.replace(small, memory_mb=256, max_memory_mb=1024), TCG)
    assert (spec.max_memory_mb, spec.memory_slots, len(spec.numa_cells)) == (1024, 16, 1)
    assert spec.numa_cells[0].cpus == (0, 1, 2, 3)  # the cell holds the vCPUs that may be plugged too
