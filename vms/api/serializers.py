"""The VM API's shapes (API.md `vms/`, `operatingsystems/`, `instancetypes/`)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.forms import serializer_from_form
from vms.choices import DiskFormat, DiskInterface, Provisioning
from vms.forms import (
    BasicsForm,
    DiskForm,
    EditForm,
    FinishForm,
    InitializationForm,
    MigrateForm,
    NicForm,
    ProfileForm,
    RunOnceForm,
    SizingForm,
)
from vms.models import InstanceType, OperatingSystem, Template, Vm, VmDisk, VmNic
from vms.services.initialization import InitializationRequest
from vms.services.requests import TOPOLOGY_FIELDS, DiskRequest, NicRequest, VmRequest


SIZES = ("memory_mb", "vcpus", "disk_gb")


@extend_schema_field({"type": "object", "properties": {name: {"type": "integer"} for name in SIZES}})
class SizingField(serializers.Field):
    """An OS's minimum or recommended {memory_mb, vcpus, disk_gb}."""

    def __init__(self, prefix: str, **kwargs):
        self.prefix = prefix
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, os_type):
        return {name: getattr(os_type, f"{self.prefix}_{name}") for name in SIZES}


class OperatingSystemSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="short_id", read_only=True)
    url = serializers.HyperlinkedIdentityField(view_name="api:operatingsystem-detail")
    recommended = SizingField("recommended")
    minimum = SizingField("minimum")

    class Meta:
        model = OperatingSystem
        fields = [
            "id", "url", "name", "family", "vendor", "version", "release_date", "eol_date",
            "recommended", "minimum", "virtio", "disk_bus", "nic_model", "video_model", "clock_offset",
            "hyperv", "guest_agent", "source",
        ]
        read_only_fields = fields


class InstanceTypeSerializer(serializers.HyperlinkedModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:instancetype-detail")

    class Meta:
        model = InstanceType
        fields = ["id", "url", "name", "description", "memory_mb", "cpu_sockets", "cpu_cores", "cpu_threads"]


# A disk's and a NIC's inputs are the wizard's step 4 rows (DiskForm, NicForm);
# the format, the bus and which disk boots are chosen in the API only.
class VmDiskSerializer(serializer_from_form(DiskForm, name="DiskInputs"), serializers.ModelSerializer):
    format = serializers.ChoiceField(DiskFormat.choices(), default=DiskFormat.QCOW2)
    interface = serializers.ChoiceField(DiskInterface.choices(), required=False, allow_blank=True, default="")

    class Meta:
        model = VmDisk
        fields = ["id", "size_gb", "format", "allocation", "interface", "bootable", "storage_domain", "image",
                  "template_disk", "path", "status"]
        read_only_fields = ["id", "template_disk", "path", "status"]


class VmNicSerializer(serializer_from_form(NicForm, name="NicInputs"), serializers.ModelSerializer):
    class Meta:
        model = VmNic
        fields = ["id", "network", "model", "mac"]
        read_only_fields = ["id"]


@extend_schema_field({
    "type": "object",
    "properties": {
        "host": {"type": "integer", "nullable": True},
        "summary": {"type": "string"},
        "reasons": {"type": "array", "items": {"type": "object", "properties": {
            "host": {"type": "integer"}, "host_name": {"type": "string"}, "passed": {"type": "boolean"},
            "filter": {"type": "string", "nullable": True}, "reason": {"type": "string"},
            "score": {"type": "number", "nullable": True},
        }}},
    },
})
class PlacementField(serializers.JSONField):
    def __init__(self, **kwargs):
        super().__init__(read_only=True, **kwargs)


@extend_schema_field({
    "type": "object", "nullable": True,
    "description": "Changes waiting for the next start: {setting: {value, reason}}; null when none.",
    "additionalProperties": {"type": "object", "properties": {
        "value": {}, "reason": {"type": "string"},
    }},
})
class NextRunField(serializers.JSONField):
    def __init__(self, **kwargs):
        super().__init__(read_only=True, **kwargs)


# The wizard's First boot section; in the API, giving ``initialization`` is what personalises.
INITIALIZATION_API_OVERRIDES = {"personalise": None, "password": {"write_only": True}}
InitializationInputs = serializer_from_form(InitializationForm, name="InitializationInputs",
                                            api_overrides=INITIALIZATION_API_OVERRIDES)


class InitializationSerializer(InitializationInputs):
    """First boot (create only). The password is write-only: the answer says whether one is set."""

    password_set = serializers.SerializerMethodField()
    applied_at = serializers.DateTimeField(read_only=True, help_text="When the first start happened (null: not yet).")

    def get_password_set(self, initialization) -> bool:
        return bool(initialization.password_secret)


# Where the API differs from the wizard's steps, each once: the rest of the
# wizard's inputs are the API's as they are (serializer_from_form).
VM_API_OVERRIDES = {
    # The API's own: a template's id (the wizard's select also offers "latest").
    "template": None,
    "provisioning": None,  # the API's own: the VM's value is read back
    # Left out with a template: the template's (vm_request_clean fills them in).
    "os_type": {"required": False},
    "optimization": {"required": False},
    # Left out, the instance type or the OS gives them (vm_request_clean); the
    # wizard shows them filled in the same way and asks for all.
    **{name: {"required": False} for name in TOPOLOGY_FIELDS},
    "console": {"required": False},  # left out: the profile's (headless for high performance)
    # `host` answers where the VM is; the pin is written as `pin_host`.
    "host": {"name": "pin_host", "source": "host", "write_only": True},
    "clone_allocation": {"write_only": True},
    "start": {"default": False, "write_only": True},  # the wizard ticks the box; the API starts nothing unasked
}
VmInputs = serializer_from_form(BasicsForm, SizingForm, ProfileForm, FinishForm, name="VmInputs",
                                api_overrides=VM_API_OVERRIDES)


class VmSerializer(VmInputs, serializers.HyperlinkedModelSerializer):
    """Writes go through vms.services (vm_request_clean checks them); the
    serializer only shapes JSON into a VmRequest."""

    # The inputs are the wizard's (VmInputs); declared here: those only the API offers, and the read side.

    url = serializers.HyperlinkedIdentityField(view_name="api:vm-detail")
    template = serializers.PrimaryKeyRelatedField(
        queryset=Template.objects.all(), required=False, allow_null=True, default=None,
        help_text="The template (a version's id) whose hardware and disks the VM starts from; null: blank.")
    template_latest = serializers.BooleanField(
        default=False, write_only=True,
        help_text="With template: take the newest ready version of its family at creation time instead.")
    provisioning = serializers.ChoiceField(
        Provisioning.choices(), required=False,
        help_text="From a template: thin (an overlay on its disks) or clone (a copy). Left out: the "
                  "optimization profile's (desktop thin, otherwise clone).")
    disks = VmDiskSerializer(many=True, required=False)
    nics = VmNicSerializer(many=True, required=False)
    initialization = InitializationSerializer(required=False, allow_null=True, default=None,
                                              help_text="First-boot personalisation (a config drive at the first start).")
    data_center = serializers.PrimaryKeyRelatedField(read_only=True)
    host = serializers.PrimaryKeyRelatedField(read_only=True, help_text="Where the VM is defined and runs.")
    pinned_host = serializers.PrimaryKeyRelatedField(read_only=True)
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)
    placement = PlacementField()
    template_version = serializers.IntegerField(read_only=True, help_text="The version the VM was made from.")
    vcpus = serializers.IntegerField(read_only=True)
    boot_order = serializers.CharField(read_only=True, help_text="Boot devices, first to last: hd,cdrom,network.")
    max_memory_mb = serializers.IntegerField(read_only=True, allow_null=True,
                                             help_text="While it runs, memory grows live up to this.")
    max_vcpus = serializers.IntegerField(read_only=True, allow_null=True,
                                         help_text="While it runs, vCPUs change live up to this.")
    next_run = NextRunField()

    class Meta:
        model = Vm
        fields = [
            "id", "url", "uuid", "name", "description", "cluster", "data_center", "template", "template_latest",
            "template_version", "clone_allocation",
            "os_type", "instance_type", "optimization", "memory_mb", "memory_guaranteed_mb", "cpu_sockets",
            "cpu_cores", "cpu_threads", "vcpus", "provisioning", "disks", "nics", "console", "pin_host",
            "pinned_host", "start", "initialization", "status", "status_reason", "host", "owner", "origin",
            "placement", "boot_order", "max_memory_mb", "max_vcpus", "next_run", "created_at",
        ]
        read_only_fields = ["uuid", "data_center", "status", "status_reason", "origin", "created_at"]

    def vm_request(self) -> VmRequest:
        data = dict(self.validated_data)
        disks = tuple(DiskRequest(**disk) for disk in data.pop("disks", []))
        nics = tuple(NicRequest(**nic) for nic in data.pop("nics", []))
        initialization = data.pop("initialization", None)
        if initialization is not None:
            initialization = InitializationRequest(**initialization)
        return VmRequest(disks=disks, nics=nics, initialization=initialization, **data)


RunOnceSerializer = serializer_from_form(RunOnceForm, name="RunOnceSerializer")
MigrateSerializer = serializer_from_form(MigrateForm, name="MigrateSerializer")


class VmEditSerializer(serializer_from_form(EditForm, name="VmEditInputs")):
    """A VM's own settings (the Edit page's), and its NICs: given, they replace
    the VM's (keep a NIC's MAC to keep the NIC; a blank MAC takes the pool's next)."""

    nics = VmNicSerializer(many=True, required=False)
