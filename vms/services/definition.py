"""A VM row, as the domain its host runs: the rows become a ``VmPlan`` and
``vms.policy`` (the one place that knows what an OS type and a profile imply)
turns the plan into a DomainSpec.

How far a running VM may grow is decided here, once per definition
(``live_maximums``): four times its memory and its vCPUs (oVirt's default
maximum memory is four times the VM's memory too), never beyond the cluster's
largest host, which no VM may outgrow anyway. A ceiling costs little (QEMU
reserves address space and empty vCPU slots, not memory or threads) but is
fixed while the domain runs: what goes beyond it waits for the next start,
when the ceiling is worked out again from the new figures."""

from __future__ import annotations

import hypervisor
from hypervisor.specs import CpuTopology, DomainSpec, NumaCell
from inventory.models import Host
from inventory.services.network import network_libvirt_name
from vms.models import Vm
from vms.policy import BootOverride, HostTraits, PlannedDisk, PlannedNic, VmPlan, domain_spec_for
from vms.services.catalog import os_profile_of
from vms.services.requests import boot_order_devices, largest_host_limits
from vms.services.initialization import first_boot_drive

# Kept on the domain (libvirt metadata), so a domain found on a host can be
# traced back to its row.
METADATA_VM_ID = "vm-id"
MEMORY_GROWTH_FACTOR = 4
VCPU_GROWTH_FACTOR = 4


def host_traits(host: Host) -> HostTraits:
    cells = tuple(
        NumaCell(index=node["index"], cpus=tuple(node["cpus"]), memory_mb=node["memory_mb"])
        for node in host.numa_nodes
    )
    return HostTraits(domain_type=host.domain_type or "qemu", numa_cells=cells)


def live_maximums(vm: Vm) -> tuple[int, int]:
    """(memory in MiB, vCPUs) the VM's domain may grow to while it runs;
    vCPUs in whole sockets of its cores x threads."""
    host_memory_mb, host_vcpus = largest_host_limits(vm.cluster)
    max_memory_mb = MEMORY_GROWTH_FACTOR * vm.memory_mb
    if host_memory_mb:
        max_memory_mb = min(max_memory_mb, host_memory_mb)
    per_socket = vm.cpu_cores * vm.cpu_threads
    max_vcpus = VCPU_GROWTH_FACTOR * vm.vcpus
    if host_vcpus:
        max_vcpus = min(max_vcpus, host_vcpus)
    return max(max_memory_mb, vm.memory_mb), max(max_vcpus // per_socket * per_socket, vm.vcpus)


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
    max_memory_mb, max_vcpus = live_maximums(vm)
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
        boot_order=tuple(boot_order_devices(vm.boot_order)),
        max_memory_mb=max_memory_mb,
        max_vcpus=max_vcpus,
        config_drive=first_boot_drive(vm),
    )


def vm_domain_spec(
    vm: Vm, host: Host, *, boot: BootOverride | None = None, disk_paths: dict[int, str] | None = None
) -> DomainSpec:
    return domain_spec_for(vm_plan(vm, disk_paths=disk_paths), host_traits(host), boot)


def vm_define(vm: Vm, host: Host) -> DomainSpec:
    """Define (or redefine) the VM's domain on ``host`` from its rows, and
    keep the ceilings it got: a live edit is judged against them."""
    spec = vm_domain_spec(vm, host)
    hypervisor.define_domain(host.uri, spec)
    Vm.objects.filter(pk=vm.pk).update(max_memory_mb=spec.max_memory_mb, max_vcpus=spec.max_vcpus)
    vm.max_memory_mb, vm.max_vcpus = spec.max_memory_mb, spec.max_vcpus
    return spec
