"""Templates: a VM's hardware and a standalone copy of its disks, from which
VMs are made. Versions of a template share its name's base (``base_template``)
and are numbered within it."""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models

from vms.choices import ConsoleType, DiskFormat, DiskInterface, Optimization, SealStatus, TemplateStatus


class Template(models.Model):
    name = models.CharField(max_length=64)
    description = models.TextField(blank=True)
    data_center = models.ForeignKey("inventory.DataCenter", on_delete=models.PROTECT, related_name="templates")
    os_type = models.ForeignKey("vms.OperatingSystem", on_delete=models.PROTECT, related_name="templates")
    memory_mb = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    memory_guaranteed_mb = models.PositiveIntegerField(default=0)
    cpu_sockets = models.PositiveSmallIntegerField(default=1)
    cpu_cores = models.PositiveSmallIntegerField(default=1)
    cpu_threads = models.PositiveSmallIntegerField(default=1)
    optimization = models.CharField(max_length=20, choices=Optimization.choices(), default=Optimization.SERVER)
    console = models.CharField(max_length=8, choices=ConsoleType.choices(), default=ConsoleType.VNC)
    # The NICs' models in order (empty string: the OS type's); networks and
    # MACs belong to each VM made from it.
    nic_models = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=16, choices=TemplateStatus.choices(), default=TemplateStatus.LOCKED)
    # Null for a base template; its versions point to it.
    base_template = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="versions"
    )
    version_number = models.PositiveIntegerField(default=1)
    version_name = models.CharField(max_length=64, blank=True)
    # True once virt-sysprep sealed the disks (vms.services.sealing); seal_status
    # says whether it was asked for, and why not when it could not be done.
    sealed = models.BooleanField(default=False)
    seal_status = models.CharField(max_length=16, choices=SealStatus.choices(), default=SealStatus.OFF)
    seal_message = models.TextField(blank=True)
    # What virt-sysprep printed while sealing (one line each), for the template's page.
    seal_report = models.JSONField(default=list, blank=True)
    created_from_vm = models.ForeignKey(
        "vms.Vm", null=True, blank=True, on_delete=models.SET_NULL, related_name="templates_made"
    )
    # Or the uploaded disk image it was converted from (never both).
    created_from_image = models.ForeignKey(
        "inventory.Image", null=True, blank=True, on_delete=models.SET_NULL, related_name="templates_made"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "version_number"]
        constraints = [
            models.UniqueConstraint(fields=["data_center", "name"], name="template_name_unique_per_data_center"),
            models.UniqueConstraint(fields=["base_template", "version_number"],
                                    name="template_version_unique_per_base"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def vcpus(self) -> int:
        return self.cpu_sockets * self.cpu_cores * self.cpu_threads


class TemplateDisk(models.Model):
    template = models.ForeignKey(Template, on_delete=models.CASCADE, related_name="disks")
    index = models.PositiveSmallIntegerField()
    size_gb = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    format = models.CharField(max_length=8, choices=DiskFormat.choices(), default=DiskFormat.QCOW2)
    interface = models.CharField(max_length=8, choices=DiskInterface.choices(), blank=True)
    bootable = models.BooleanField(default=False)
    storage_domain = models.ForeignKey(
        "inventory.StorageDomain", on_delete=models.PROTECT, related_name="template_disks"
    )
    volume_name = models.CharField(max_length=255)
    path = models.CharField(max_length=1024, blank=True)
    status = models.CharField(max_length=16, choices=TemplateStatus.choices(), default=TemplateStatus.LOCKED)

    class Meta:
        ordering = ["template", "index"]
        constraints = [
            models.UniqueConstraint(fields=["template", "index"], name="template_disk_index_unique"),
            models.UniqueConstraint(fields=["storage_domain", "volume_name"],
                                    name="template_volume_unique_per_domain"),
        ]

    def __str__(self) -> str:
        return f"{self.template.name} disk {self.index}"
