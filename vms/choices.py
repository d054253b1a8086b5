"""The vms app's ChoiceSets: VM and disk statuses, profiles, consoles, models (value, label, colour)."""

from core.choices import ChoiceSet


class VmStatus(ChoiceSet):
    DOWN = "down"
    POWERING_UP = "powering_up"
    UP = "up"
    POWERING_DOWN = "powering_down"
    PAUSED = "paused"
    SUSPENDED = "suspended"
    MIGRATING = "migrating"
    SAVING_STATE = "saving_state"
    RESTORING_STATE = "restoring_state"
    REBOOT_IN_PROGRESS = "reboot_in_progress"
    IMAGE_LOCKED = "image_locked"
    NOT_RESPONDING = "not_responding"
    UNKNOWN = "unknown"
    CHOICES = [
        (DOWN, "Down", "grey"),
        (POWERING_UP, "Powering up", "blue"),
        (UP, "Up", "green"),
        (POWERING_DOWN, "Powering down", "blue"),
        (PAUSED, "Paused", "orange"),
        (SUSPENDED, "Suspended", "orange"),
        (MIGRATING, "Migrating", "blue"),
        (SAVING_STATE, "Saving state", "blue"),
        (RESTORING_STATE, "Restoring state", "blue"),
        (REBOOT_IN_PROGRESS, "Rebooting", "blue"),
        (IMAGE_LOCKED, "Image locked", "purple"),
        (NOT_RESPONDING, "Not responding", "red"),
        (UNKNOWN, "Unknown", "red"),
    ]
    # A VM in these states holds memory and vCPUs on its host.
    RUNNING = (POWERING_UP, UP, POWERING_DOWN, PAUSED, MIGRATING, REBOOT_IN_PROGRESS, NOT_RESPONDING)


class Optimization(ChoiceSet):
    DESKTOP = "desktop"
    SERVER = "server"
    HIGH_PERFORMANCE = "high_performance"
    CHOICES = [
        (DESKTOP, "Desktop", "cyan"),
        (SERVER, "Server", "blue"),
        (HIGH_PERFORMANCE, "High performance", "purple"),
    ]


class Provisioning(ChoiceSet):
    THIN = "thin"
    CLONE = "clone"
    CHOICES = [(THIN, "Thin (overlay on the template)", "cyan"), (CLONE, "Clone (independent copy)", "blue")]


class ConsoleType(ChoiceSet):
    VNC = "vnc"
    SPICE = "spice"
    NONE = "none"
    CHOICES = [(VNC, "VNC", "blue"), (SPICE, "SPICE", "purple"), (NONE, "None (headless)", "grey")]


class BootDevice(ChoiceSet):
    """What a Run Once start boots from."""

    HD = "hd"
    CDROM = "cdrom"
    NETWORK = "network"
    CHOICES = [(HD, "Hard disk", "grey"), (CDROM, "CD-ROM (an ISO image)", "blue"), (NETWORK, "Network (PXE)", "cyan")]


class VmOrigin(ChoiceSet):
    PORTAL = "portal"
    EXTERNAL = "external"
    CHOICES = [(PORTAL, "Portal", "blue"), (EXTERNAL, "External", "orange")]


class OsFamily(ChoiceSet):
    LINUX = "linux"
    WINDOWS = "windows"
    OTHER = "other"
    CHOICES = [(LINUX, "Linux", "blue"), (WINDOWS, "Windows", "cyan"), (OTHER, "Other", "grey")]


class DiskFormat(ChoiceSet):
    QCOW2 = "qcow2"
    RAW = "raw"
    CHOICES = [(QCOW2, "qcow2", "blue"), (RAW, "raw", "grey")]


class DiskAllocation(ChoiceSet):
    THIN = "thin"
    PREALLOCATED = "preallocated"
    CHOICES = [(THIN, "Thin provisioned", "cyan"), (PREALLOCATED, "Preallocated", "blue")]


class DiskInterface(ChoiceSet):
    VIRTIO = "virtio"
    SATA = "sata"
    IDE = "ide"
    CHOICES = [(VIRTIO, "VirtIO", "blue"), (SATA, "SATA", "grey"), (IDE, "IDE", "grey")]


class NicModel(ChoiceSet):
    VIRTIO = "virtio"
    E1000 = "e1000"
    RTL8139 = "rtl8139"
    CHOICES = [(VIRTIO, "VirtIO", "blue"), (E1000, "e1000", "grey"), (RTL8139, "rtl8139", "grey")]


class DiskStatus(ChoiceSet):
    LOCKED = "locked"
    OK = "ok"
    ILLEGAL = "illegal"
    CHOICES = [(LOCKED, "Locked", "purple"), (OK, "OK", "green"), (ILLEGAL, "Illegal", "red")]


# The API schema names these shared choice sets once.
DISK_INTERFACE_CHOICES = DiskInterface.choices()
NIC_MODEL_CHOICES = NicModel.choices()
CONSOLE_TYPE_CHOICES = ConsoleType.choices()  # a VM's console: the VM, its creation and its edit
DISK_IMAGE_STATUS_CHOICES = DiskStatus.choices()  # disks and snapshots
# A new disk's allocation, saying the format it decides: a disk's, and a clone's disks from a template.
DISK_ALLOCATION_CHOICES = [(DiskAllocation.THIN, "Thin provisioned (qcow2)"),
                           (DiskAllocation.PREALLOCATED, "Preallocated (raw)")]


# A snapshot's status is oVirt's image status, as a disk's: locked while a job
# works on it, ok, or illegal when a failed job may have left it half made.
SnapshotStatus = DiskStatus


# A template's status is oVirt's, as a disk's: locked while a job copies or
# removes its disks, ok, or illegal when a failed job could not clean up.
TemplateStatus = DiskStatus


class SealStatus(ChoiceSet):
    """Whether a template's disks had their machine identity removed (virt-sysprep)."""
    OFF = "off"  # not asked for
    PENDING = "pending"  # asked for; the job seals after copying
    SEALED = "sealed"
    UNSEALED = "unsealed"  # asked for, but the guest could not be sealed: the reason is kept
    CHOICES = [(OFF, "Not sealed (not asked)", "grey"), (PENDING, "To be sealed", "purple"),
               (SEALED, "Sealed", "green"), (UNSEALED, "Not sealed", "orange")]
