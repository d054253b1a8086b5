"""A VM's snapshots: the portal's record of libvirt's internal snapshots."""

from django.db import models
from django.utils import timezone

from vms.choices import SnapshotStatus
from vms.models.vm import Vm


class VmSnapshot(models.Model):
    vm = models.ForeignKey(Vm, on_delete=models.CASCADE, related_name="snapshots")
    name = models.CharField(max_length=64)  # libvirt's name, also the tag inside the qcow2 disks
    description = models.CharField(max_length=255, blank=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children")
    has_memory = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=SnapshotStatus.choices(), default=SnapshotStatus.LOCKED)
    created_at = models.DateTimeField(default=timezone.now)
    # How much the VM's disks grew when it was taken (memory state and metadata);
    # null where that cannot be known.
    size_bytes = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["vm", "created_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["vm", "name"], name="snapshot_name_unique_per_vm")]

    def __str__(self) -> str:
        return f"{self.vm.name} snapshot {self.name}"
