"""The inventory's ChoiceSets: statuses, classifications, types and policies (value, label, colour)."""

from core.choices import ChoiceSet


class Classification(ChoiceSet):
    SERVICE = "service"
    CLUSTER = "cluster"
    CUSTOMER = "customer"
    OTHER = "other"
    CHOICES = [
        (SERVICE, "By service", "blue"),
        (CLUSTER, "By cluster", "cyan"),
        (CUSTOMER, "By customer", "purple"),
        (OTHER, "Other", "grey"),
    ]


class DataCenterStorageType(ChoiceSet):
    SHARED = "shared"
    LOCAL = "local"
    CHOICES = [(SHARED, "Shared", "blue"), (LOCAL, "Local", "grey")]


class DataCenterStatus(ChoiceSet):
    UNINITIALIZED = "uninitialized"
    UP = "up"
    MAINTENANCE = "maintenance"
    PROBLEMATIC = "problematic"
    CHOICES = [
        (UNINITIALIZED, "Uninitialized", "grey"),
        (UP, "Up", "green"),
        (MAINTENANCE, "Maintenance", "orange"),
        (PROBLEMATIC, "Problematic", "red"),
    ]


class SchedulingPolicy(ChoiceSet):
    NONE = "none"
    EVENLY_DISTRIBUTED = "evenly_distributed"
    POWER_SAVING = "power_saving"
    VM_EVENLY_DISTRIBUTED = "vm_evenly_distributed"
    CLUSTER_MAINTENANCE = "cluster_maintenance"
    CHOICES = [
        (NONE, "None", "grey"),
        (EVENLY_DISTRIBUTED, "Evenly distributed", "blue"),
        (POWER_SAVING, "Power saving", "green"),
        (VM_EVENLY_DISTRIBUTED, "VM evenly distributed", "cyan"),
        (CLUSTER_MAINTENANCE, "Cluster maintenance", "orange"),
    ]


class MigrationPolicy(ChoiceSet):
    MINIMAL_DOWNTIME = "minimal_downtime"
    POST_COPY = "post_copy"
    SUSPEND_WORKLOAD = "suspend_workload"
    VERY_LARGE_VMS = "very_large_vms"
    CHOICES = [
        (MINIMAL_DOWNTIME, "Minimal downtime", "blue"),
        (POST_COPY, "Post-copy", "purple"),
        (SUSPEND_WORKLOAD, "Suspend workload if needed", "orange"),
        (VERY_LARGE_VMS, "Very large VMs", "cyan"),
    ]


class HostStatus(ChoiceSet):
    INSTALLING = "installing"
    CONNECTING = "connecting"
    UP = "up"
    PREPARING_FOR_MAINTENANCE = "preparing_for_maintenance"
    MAINTENANCE = "maintenance"
    NON_RESPONSIVE = "non_responsive"
    NON_OPERATIONAL = "non_operational"
    ERROR = "error"
    DOWN = "down"
    CHOICES = [
        (INSTALLING, "Installing", "blue"),
        (CONNECTING, "Connecting", "blue"),
        (UP, "Up", "green"),
        (PREPARING_FOR_MAINTENANCE, "Preparing for maintenance", "orange"),
        (MAINTENANCE, "Maintenance", "orange"),
        (NON_RESPONSIVE, "Non responsive", "red"),
        (NON_OPERATIONAL, "Non operational", "red"),
        (ERROR, "Error", "red"),
        (DOWN, "Down", "grey"),
    ]


class StorageDomainType(ChoiceSet):
    DATA = "data"
    ISO = "iso"
    EXPORT = "export"
    CHOICES = [(DATA, "Data", "blue"), (ISO, "ISO", "purple"), (EXPORT, "Export", "cyan")]


class StorageType(ChoiceSet):
    DIR = "dir"
    NFS = "nfs"
    LOCALFS = "localfs"
    CHOICES = [(DIR, "Directory", "blue"), (NFS, "NFS", "cyan"), (LOCALFS, "Local FS", "grey")]


class AttachmentStatus(ChoiceSet):
    """What storage domains and networks share: unattached -> (attach job:
    locked) -> active; a failed job leaves it inactive, to be attached again."""

    UNATTACHED = "unattached"
    ACTIVE = "active"
    INACTIVE = "inactive"
    LOCKED = "locked"
    CHOICES = [
        (UNATTACHED, "Unattached", "grey"),
        (ACTIVE, "Active", "green"),
        (INACTIVE, "Inactive", "red"),
        (LOCKED, "Locked", "orange"),
    ]


# One name each, so templates and code say what they are about.
class StorageDomainStatus(AttachmentStatus):
    pass


class NetworkStatus(AttachmentStatus):
    pass


class PowerAgent(ChoiceSet):
    IPMILAN = "ipmilan"
    REDFISH = "redfish"
    CHOICES = [(IPMILAN, "IPMI over LAN", "blue"), (REDFISH, "Redfish", "cyan")]


class ImageContent(ChoiceSet):
    DISK = "disk"
    ISO = "iso"
    CHOICES = [(DISK, "Disk image", "blue"), (ISO, "ISO", "purple")]


class ImageStatus(ChoiceSet):
    UPLOADING = "uploading"
    OK = "ok"
    ILLEGAL = "illegal"
    CHOICES = [(UPLOADING, "Uploading", "blue"), (OK, "OK", "green"), (ILLEGAL, "Illegal", "red")]


# The API schema names the shared lifecycle once.
ATTACHMENT_STATUS_CHOICES = AttachmentStatus.choices()
MIGRATION_POLICY_CHOICES = MigrationPolicy.choices()  # a cluster's, and one migration's choice
