"""The vms app's models: the catalogue (OSes, instance types) and VMs with their disks, NICs and snapshots."""

from vms.models.catalog import InstanceType, OperatingSystem
from vms.models.topology import VCPUS, vcpu_count
from vms.models.snapshot import VmSnapshot
from vms.models.vm import Vm, VmDisk, VmNic

__all__ = ["VCPUS", "InstanceType", "OperatingSystem", "Vm", "VmDisk", "VmNic", "VmSnapshot", "vcpu_count"]
