"""A VM row, as the domain its host runs: the rows become a ``VmPlan`` and
``vms.policy`` (the one place that knows what an OS type and a profile imply)
turns the plan into a DomainSpec."""

from __future__ import annotations

from hypervisor.specs import CpuTopology, DomainSpec, NumaCell
from inventory.models import Host
from inventory.services.network import network_libvirt_name
from vms.models import Vm
from vms.policy import BootOverride, HostTraits, PlannedDisk, PlannedNic, VmPlan, domain_spec_for
from vms.services.catalog import os_profile_of
from vms.services.initialization import first_boot_drive

# Kept on the domain (libvirt metadata), so a domain found on a host can be
# traced back to its row.
METADATA_VM_ID = "vm-id"


def host_traits(host: Host) -> HostTraits:
    cells = tuple(
        NumaCell(index=node["index"], cpus=tuple(node["cpus"]), memory_mb=node["memory_mb"])
        for node in host.numa_nodes
    )
    return HostTraits(domain_type=host.domain_type or "qemu", numa_cells=cells)


def vm_plan(vm: Vm, *, disk_paths: dict[int, str] | None = None) -> VmPlan:
    """``disk_paths`` replaces some disks' files for one run (stateless
    overlays), keyed by disk index."""
    replaced = disk_paths or {}
    disks = tuple(
        PlannedDisk(
            path=replaced.get(disk.index, disk.path),
            format="qcow2" if disk.index in replaced else disk.format,
            bootable=disk.bootable,
            bus=disk.interface or None,
        )
        for disk in vm.disks.all()
    )
    nics = tuple(
        # Through the libvirt network the attach job made on every host: it knows
        # whether the bridge is a Linux one or Open vSwitch with a VLAN tag.
        PlannedNic(mac=nic.mac, network=network_libvirt_name(nic.network), model=nic.model or None)
        for nic in vm.nics.select_related("network")
    )
    return VmPlan(
        name=vm.name,
        uuid=str(vm.uuid),
        memory_mb=vm.memory_mb,
        topology=CpuTopology(sockets=vm.cpu_sockets, cores=vm.cpu_cores, threads=vm.cpu_threads),
        optimization=vm.optimization,
        os=os_profile_of(vm.os_type),
        disks=disks,
        nics=nics,
        console=vm.console,
        description=vm.description,
        smbios_serial=vm.name,
        metadata={METADATA_VM_ID: str(vm.pk)},
        config_drive=first_boot_drive(vm),
    )


def vm_domain_spec(
    vm: Vm, host: Host, *, boot: BootOverride | None = None, disk_paths: dict[int, str] | None = None
) -> DomainSpec:
    return domain_spec_for(vm_plan(vm, disk_paths=disk_paths), host_traits(host), boot)
