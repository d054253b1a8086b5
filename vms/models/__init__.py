from vms.models.catalog import InstanceType, OperatingSystem
from vms.models.vm import Vm, VmDisk, VmNic

__all__ = ["InstanceType", "OperatingSystem", "Vm", "VmDisk", "VmNic"]
