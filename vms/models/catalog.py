"""The OS catalogue (imported from osinfo-db) and the hardware presets."""

from django.core.validators import MinValueValidator
from django.db import models

from vms.choices import DiskInterface, NicModel, OsFamily
from vms.models.topology import vcpu_count


class OperatingSystem(models.Model):
    """One OS the wizard offers, keyed by osinfo's short id (``debian11``,
    ``win2k22``) or a built-in generic one (``linux-generic``, ``other``).
    The device defaults are derived once, at import, from what the OS supports."""

    short_id = models.CharField(max_length=64, primary_key=True)
    name = models.CharField(max_length=128)
    family = models.CharField(max_length=16, choices=OsFamily.choices(), default=OsFamily.OTHER)
    vendor = models.CharField(max_length=128, blank=True)
    version = models.CharField(max_length=32, blank=True)
    release_date = models.DateField(null=True, blank=True)
    eol_date = models.DateField(null=True, blank=True)
    minimum_memory_mb = models.PositiveIntegerField(default=0)
    minimum_vcpus = models.PositiveSmallIntegerField(default=1)
    minimum_disk_gb = models.PositiveIntegerField(default=0)
    recommended_memory_mb = models.PositiveIntegerField(default=1024)
    recommended_vcpus = models.PositiveSmallIntegerField(default=1)
    recommended_disk_gb = models.PositiveIntegerField(default=10)
    virtio = models.BooleanField(default=True)
    disk_bus = models.CharField(max_length=8, choices=DiskInterface.choices(), default=DiskInterface.VIRTIO)
    nic_model = models.CharField(max_length=16, choices=NicModel.choices(), default=NicModel.VIRTIO)
    video_model = models.CharField(max_length=16, default="virtio")
    clock_offset = models.CharField(max_length=16, default="utc")
    hyperv = models.BooleanField(default=False)
    guest_agent = models.BooleanField(default=True)
    # "osinfo" when read from osinfo-db, "builtin" for the generic stand-ins.
    source = models.CharField(max_length=16, default="osinfo")

    class Meta:
        ordering = ["family", "name"]
        indexes = [models.Index(fields=["name"])]

    def __str__(self) -> str:
        return self.name


class InstanceType(models.Model):
    """A hardware preset (oVirt's Tiny ... XLarge). Choosing one fills the
    wizard; the VM keeps a reference only while its figures still match."""

    name = models.CharField(max_length=64, unique=True)
    description = models.TextField(blank=True)
    memory_mb = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    cpu_sockets = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(1)])
    cpu_cores = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(1)])
    cpu_threads = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(1)])

    class Meta:
        ordering = ["memory_mb", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def vcpus(self) -> int:
        return vcpu_count(self.cpu_sockets, self.cpu_cores, self.cpu_threads)
