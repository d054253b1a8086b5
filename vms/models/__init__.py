"""The vms app's models: the catalogue (OSes, instance types) and VMs with their disks, NICs and snapshots; templates."""

from vms.models.catalog import InstanceType, OperatingSystem
from vms.models.initialization import VmInitialization
from vms.models.topology import VCPUS, vcpu_count
from vms.models.snapshot import VmSnapshot
from vms.models.template import Template, TemplateDisk
from vms.models.vm import Vm, VmDisk, VmNic

__all__ = ["VCPUS", "InstanceType", "OperatingSystem", "Template", "TemplateDisk", "Vm", "VmDisk", "VmInitialization", "VmNic", "VmSnapshot", "vcpu_count"]
