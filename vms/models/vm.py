"""Virtual machines, their disks and NICs."""

import uuid

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from vms.choices import (
    ConsoleType,
    DiskAllocation,
    DiskFormat,
    DiskInterface,
    DiskStatus,
    NicModel,
    Optimization,
    Provisioning,
    VmOrigin,
    VmStatus,
)
from vms.models.topology import vcpu_count


class Vm(models.Model):
    """A VM of the portal (or one found on a host: origin external). Its domain
    is defined on ``host``; ``placement`` keeps the scheduler's last answer with
    every host's verdict so the UI can explain it."""

    name = models.CharField(max_length=64)
    description = models.TextField(blank=True)
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Copied from the cluster so the database keeps names unique per data center.
    data_center = models.ForeignKey("inventory.DataCenter", on_delete=models.PROTECT, related_name="vms")
    cluster = models.ForeignKey("inventory.Cluster", on_delete=models.PROTECT, related_name="vms")
    os_type = models.ForeignKey("vms.OperatingSystem", on_delete=models.PROTECT, related_name="vms")
    instance_type = models.ForeignKey(
        "vms.InstanceType", null=True, blank=True, on_delete=models.SET_NULL, related_name="vms"
    )
    optimization = models.CharField(max_length=20, choices=Optimization.choices(), default=Optimization.SERVER)
    memory_mb = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    memory_guaranteed_mb = models.PositiveIntegerField(default=0)
    cpu_sockets = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(1)])
    cpu_cores = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(1)])
    cpu_threads = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(1)])
    provisioning = models.CharField(max_length=8, choices=Provisioning.choices(), default=Provisioning.CLONE)
    # The template (the very version) the VM was made from; its number is kept
    # apart so the record survives the template's deletion (a clone may outlive it).
    template = models.ForeignKey(
        "vms.Template", null=True, blank=True, on_delete=models.SET_NULL, related_name="vms"
    )
    template_version = models.PositiveIntegerField(null=True, blank=True)
    console = models.CharField(max_length=8, choices=ConsoleType.choices(), default=ConsoleType.VNC)
    pinned_host = models.ForeignKey(
        "inventory.Host", null=True, blank=True, on_delete=models.SET_NULL, related_name="pinned_vms"
    )
    # Restarted on another host when its host is fenced (only once the fence is confirmed).
    highly_available = models.BooleanField(default=False)
    host = models.ForeignKey(
        "inventory.Host", null=True, blank=True, on_delete=models.SET_NULL, related_name="vms"
    )
    status = models.CharField(max_length=24, choices=VmStatus.choices(), default=VmStatus.IMAGE_LOCKED)
    status_reason = models.TextField(blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    origin = models.CharField(max_length=16, choices=VmOrigin.choices(), default=VmOrigin.PORTAL)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="vms"
    )
    placement = models.JSONField(default=dict, blank=True)
    # What a Run Once start changed for this run only (stateless overlays to
    # discard at power off); empty when the VM runs its own definition.
    run_once = models.JSONField(default=dict, blank=True)
    # The devices it boots from, first to last, comma-separated ("hd,network"):
    # vms.policy.BOOT_DEVICES.
    boot_order = models.CharField(max_length=40, default="hd")
    # The ceilings its domain was last defined with (vms.services.definition):
    # while it runs, memory and vCPUs change live up to them. Null: never defined.
    max_memory_mb = models.PositiveIntegerField(null=True, blank=True)
    max_vcpus = models.PositiveSmallIntegerField(null=True, blank=True)
    # The next-run configuration: edits of a running VM that wait for its next
    # start, {field: {"value": ..., "reason": why it waits}}; null when none.
    next_run = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        # name, id: the lists' default order, so a page is read from the index, not sorted.
        indexes = [models.Index(fields=["status"]), models.Index(fields=["created_at"]),
                   models.Index(fields=["name", "id"])]
        constraints = [
            models.UniqueConstraint(fields=["data_center", "name"], name="vm_name_unique_per_data_center"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def vcpus(self) -> int:
        return vcpu_count(self.cpu_sockets, self.cpu_cores, self.cpu_threads)

    @property
    def is_external(self) -> bool:
        """Found on a host, not created by the portal."""
        return self.origin == VmOrigin.EXTERNAL

    @property
    def is_headless(self) -> bool:
        """Has no graphical console, only a serial one."""
        return self.console == ConsoleType.NONE


class VmDisk(models.Model):
    """A disk: a volume on a storage domain, attached to ``vm`` or floating
    (oVirt's word: ``vm`` null, detached and kept, to attach again later)."""

    vm = models.ForeignKey(Vm, null=True, blank=True, on_delete=models.CASCADE, related_name="disks")
    index = models.PositiveSmallIntegerField()
    # Its name when floating, given at detach ("web1 disk 2"): the VM's name no longer says whose it was.
    alias = models.CharField(max_length=128, blank=True)
    # A floating disk's owner (the VM's owner at detach): who besides the admins may see and attach it.
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="floating_disks")
    size_gb = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    format = models.CharField(max_length=8, choices=DiskFormat.choices(), default=DiskFormat.QCOW2)
    allocation = models.CharField(max_length=16, choices=DiskAllocation.choices(), default=DiskAllocation.THIN)
    # Empty: the OS type's bus.
    interface = models.CharField(max_length=8, choices=DiskInterface.choices(), blank=True)
    bootable = models.BooleanField(default=False)
    storage_domain = models.ForeignKey("inventory.StorageDomain", on_delete=models.PROTECT, related_name="disks")
    image = models.ForeignKey(
        "inventory.Image", null=True, blank=True, on_delete=models.SET_NULL, related_name="disks"
    )
    # The template disk this disk was made from: its backing file when the VM
    # is thin (vms.services.from_template.thin_vms_using keeps such a template
    # from being deleted), the source of its copy when it is a clone.
    template_disk = models.ForeignKey(
        "vms.TemplateDisk", null=True, blank=True, on_delete=models.SET_NULL, related_name="vm_disks"
    )
    volume_name = models.CharField(max_length=255)
    path = models.CharField(max_length=1024, blank=True)
    status = models.CharField(max_length=16, choices=DiskStatus.choices(), default=DiskStatus.LOCKED)

    class Meta:
        ordering = ["vm", "index"]
        constraints = [
            models.UniqueConstraint(fields=["vm", "index"], name="disk_index_unique_per_vm"),
            models.UniqueConstraint(fields=["storage_domain", "volume_name"], name="volume_unique_per_domain"),
        ]

    def __str__(self) -> str:
        if self.vm_id is None:
            return self.alias or self.volume_name
        return f"{self.vm.name} disk {self.index}"


class VmNic(models.Model):
    vm = models.ForeignKey(Vm, on_delete=models.CASCADE, related_name="nics")
    index = models.PositiveSmallIntegerField()
    network = models.ForeignKey("inventory.Network", on_delete=models.PROTECT, related_name="nics")
    model = models.CharField(max_length=16, choices=NicModel.choices(), blank=True)
    mac = models.CharField(max_length=17)
    # Copied from the VM: MACs come from a per-data-center pool and are unique in it.
    data_center = models.ForeignKey("inventory.DataCenter", on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["vm", "index"]
        constraints = [
            models.UniqueConstraint(fields=["vm", "index"], name="nic_index_unique_per_vm"),
            models.UniqueConstraint(fields=["data_center", "mac"], name="mac_unique_per_data_center"),
            models.CheckConstraint(condition=~Q(mac=""), name="nic_has_mac"),
        ]

    def __str__(self) -> str:
        return f"{self.vm.name} nic {self.index}"
