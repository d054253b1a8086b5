"""Data centers, clusters, hosts and storage domains: the physical side of the inventory."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from inventory.choices import (
    Classification,
    DataCenterStorageType,
    HostStatus,
    MigrationPolicy,
    PowerAgent,
    SchedulingPolicy,
    StorageDomainStatus,
    StorageDomainType,
    StorageType,
)

SPM_NEVER = -1
SPM_DEFAULT_PRIORITY = 5


class DataCenter(models.Model):
    name = models.CharField(max_length=64, unique=True)
    description = models.TextField(blank=True)
    classification = models.CharField(
        max_length=16, choices=Classification.choices(), default=Classification.SERVICE
    )
    storage_type = models.CharField(
        max_length=16, choices=DataCenterStorageType.choices(), default=DataCenterStorageType.SHARED
    )
    spm_host = models.ForeignKey(
        "inventory.Host", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Cluster(models.Model):
    name = models.CharField(max_length=64, unique=True)
    description = models.TextField(blank=True)
    data_center = models.ForeignKey(DataCenter, on_delete=models.PROTECT, related_name="clusters")
    cpu_model = models.CharField(max_length=64, blank=True)
    memory_overcommit_percent = models.PositiveSmallIntegerField(
        default=100, validators=[MinValueValidator(100), MaxValueValidator(400)]
    )
    scheduling_policy = models.CharField(
        max_length=32, choices=SchedulingPolicy.choices(), default=SchedulingPolicy.NONE
    )
    scheduling_parameters = models.JSONField(default=dict, blank=True)
    migration_policy = models.CharField(
        max_length=32, choices=MigrationPolicy.choices(), default=MigrationPolicy.MINIMAL_DOWNTIME
    )
    migration_bandwidth_mbps = models.PositiveIntegerField(null=True, blank=True)
    reserved_headroom_percent = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(90)]
    )
    ksm_enabled = models.BooleanField(default=False)
    ballooning_enabled = models.BooleanField(default=True)
    threads_as_cores = models.BooleanField(default=False)
    # How long a guest may take to shut down after the ACPI request before the
    # portal powers it off.
    shutdown_timeout_seconds = models.PositiveIntegerField(
        default=120, validators=[MinValueValidator(1), MaxValueValidator(3600)]
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Host(models.Model):
    """A hypervisor host reached through a libvirt URI. The facts below are
    read from libvirt by a job and the periodic check; pages only read them."""

    name = models.CharField(max_length=64, unique=True)
    cluster = models.ForeignKey(Cluster, on_delete=models.PROTECT, related_name="hosts")
    uri = models.CharField(max_length=512, unique=True)
    spm_priority = models.SmallIntegerField(
        default=SPM_DEFAULT_PRIORITY, validators=[MinValueValidator(SPM_NEVER), MaxValueValidator(10)]
    )
    status = models.CharField(
        max_length=32, choices=HostStatus.choices(), default=HostStatus.CONNECTING
    )
    status_reason = models.TextField(blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    hostname = models.CharField(max_length=255, blank=True)
    cpu_model = models.CharField(max_length=128, blank=True)
    cpu_sockets = models.PositiveIntegerField(null=True, blank=True)
    cpu_cores_per_socket = models.PositiveIntegerField(null=True, blank=True)
    cpu_threads_per_core = models.PositiveIntegerField(null=True, blank=True)
    cpu_total = models.PositiveIntegerField(null=True, blank=True)
    memory_mb = models.PositiveBigIntegerField(null=True, blank=True)
    # [{index, cpus: [ids], memory_mb}], always read whole with the host.
    numa_nodes = models.JSONField(default=list, blank=True)
    kvm = models.BooleanField(default=False)
    domain_type = models.CharField(max_length=16, blank=True)
    libvirt_version = models.CharField(max_length=32, blank=True)
    qemu_version = models.CharField(max_length=32, blank=True)
    facts_updated_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    # Out-of-band management (the host's BMC). The password is stored only
    # encrypted (core.secrets) and never returned by the API.
    pm_enabled = models.BooleanField(default=False)
    pm_agent = models.CharField(max_length=16, choices=PowerAgent.choices(), blank=True)
    pm_address = models.CharField(max_length=255, blank=True)
    pm_port = models.PositiveIntegerField(null=True, blank=True)
    pm_username = models.CharField(max_length=128, blank=True)
    pm_password_encrypted = models.TextField(blank=True)
    pm_options = models.CharField(max_length=512, blank=True)
    # When the host was last fenced (power-cycled through its BMC): the next
    # fence waits FENCE_QUIET_SECONDS after it, as oVirt's quiet time.
    last_fenced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["status"])]

    def __str__(self) -> str:
        return self.name


class StorageDomain(models.Model):
    name = models.CharField(max_length=64, unique=True)
    description = models.TextField(blank=True)
    data_center = models.ForeignKey(
        DataCenter, on_delete=models.PROTECT, related_name="storage_domains"
    )
    domain_type = models.CharField(
        max_length=16, choices=StorageDomainType.choices(), default=StorageDomainType.DATA
    )
    storage_type = models.CharField(max_length=16, choices=StorageType.choices(), default=StorageType.DIR)
    # The directory of the pool on every host; for NFS, where the export is mounted.
    path = models.CharField(max_length=1024)
    # NFS only (blank otherwise): the server (host name or address) and the
    # exported directory, mounted at ``path`` on each host.
    nfs_server = models.CharField("NFS server", max_length=255, blank=True)
    nfs_export = models.CharField("NFS export", max_length=1024, blank=True)
    status = models.CharField(
        max_length=16, choices=StorageDomainStatus.choices(), default=StorageDomainStatus.UNATTACHED
    )
    capacity_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    allocated_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    available_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
