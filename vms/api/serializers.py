"""The VM API's shapes (API.md `vms/`, `operatingsystems/`, `instancetypes/`)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.forms import serializer_from_form
from inventory.models import Cluster, Host, Image, Network, StorageDomain
from vms.choices import (
    ConsoleType,
    DiskAllocation,
    DiskFormat,
    DiskInterface,
    NicModel,
    Optimization,
    Provisioning,
)
from vms.models import InstanceType, OperatingSystem, Vm, VmDisk, VmNic
from vms.forms import RunOnceForm
from vms.services.requests import MAC_INPUT_MAX, NAME_MAX, DiskRequest, NicRequest, VmRequest


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


class VmDiskSerializer(serializers.ModelSerializer):
    size_gb = serializers.IntegerField(required=False, min_value=1)
    storage_domain = serializers.PrimaryKeyRelatedField(queryset=StorageDomain.objects.all())
    image = serializers.PrimaryKeyRelatedField(queryset=Image.objects.all(), required=False, allow_null=True)
    format = serializers.ChoiceField(DiskFormat.choices(), default=DiskFormat.QCOW2)
    allocation = serializers.ChoiceField(DiskAllocation.choices(), default=DiskAllocation.THIN)
    interface = serializers.ChoiceField(DiskInterface.choices(), required=False, allow_blank=True, default="")

    class Meta:
        model = VmDisk
        fields = ["id", "size_gb", "format", "allocation", "interface", "bootable", "storage_domain", "image",
                  "path", "status"]
        read_only_fields = ["id", "path", "status"]


class VmNicSerializer(serializers.ModelSerializer):
    network = serializers.PrimaryKeyRelatedField(queryset=Network.objects.all())
    model = serializers.ChoiceField(NicModel.choices(), required=False, allow_blank=True, default="")
    mac = serializers.CharField(required=False, allow_blank=True, default="", max_length=MAC_INPUT_MAX)

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


class VmSerializer(serializers.HyperlinkedModelSerializer):
    """Writes go through vms.services (vm_request_clean checks them); the
    serializer only shapes JSON into a VmRequest."""

    url = serializers.HyperlinkedIdentityField(view_name="api:vm-detail")
    name = serializers.CharField(max_length=NAME_MAX)
    cluster = serializers.PrimaryKeyRelatedField(queryset=Cluster.objects.select_related("data_center"))
    os_type = serializers.PrimaryKeyRelatedField(queryset=OperatingSystem.objects.all())
    instance_type = serializers.PrimaryKeyRelatedField(
        queryset=InstanceType.objects.all(), required=False, allow_null=True
    )
    template = serializers.JSONField(required=False, allow_null=True, default=None, write_only=True,
                                     help_text="Not available yet: leave empty (blank VM).")
    optimization = serializers.ChoiceField(Optimization.choices(), default=Optimization.SERVER)
    provisioning = serializers.ChoiceField(Provisioning.choices(), default=Provisioning.CLONE)
    console = serializers.ChoiceField(ConsoleType.choices(), required=False)
    memory_mb = serializers.IntegerField(required=False)
    memory_guaranteed_mb = serializers.IntegerField(required=False)
    cpu_sockets = serializers.IntegerField(required=False)
    cpu_cores = serializers.IntegerField(required=False)
    cpu_threads = serializers.IntegerField(required=False)
    pin_host = serializers.PrimaryKeyRelatedField(
        queryset=Host.objects.all(), required=False, allow_null=True, write_only=True, source="pinned_host_in",
        help_text="Run only on this host.",
    )
    disks = VmDiskSerializer(many=True, required=False)
    nics = VmNicSerializer(many=True, required=False)
    start = serializers.BooleanField(default=False, write_only=True)
    data_center = serializers.PrimaryKeyRelatedField(read_only=True)
    host = serializers.PrimaryKeyRelatedField(read_only=True, help_text="Where the VM is defined and runs.")
    pinned_host = serializers.PrimaryKeyRelatedField(read_only=True)
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)
    placement = PlacementField()
    template_version = serializers.SerializerMethodField()
    vcpus = serializers.IntegerField(read_only=True)

    class Meta:
        model = Vm
        fields = [
            "id", "url", "uuid", "name", "description", "cluster", "data_center", "template", "template_version",
            "os_type", "instance_type", "optimization", "memory_mb", "memory_guaranteed_mb", "cpu_sockets",
            "cpu_cores", "cpu_threads", "vcpus", "provisioning", "disks", "nics", "console", "pin_host",
            "pinned_host", "start", "status", "status_reason", "host", "owner", "origin", "placement",
            "created_at",
        ]
        read_only_fields = ["uuid", "data_center", "status", "status_reason", "origin", "created_at"]

    def get_template_version(self, vm) -> int | None:
        return None

    def vm_request(self) -> VmRequest:
        data = dict(self.validated_data)
        disks = tuple(DiskRequest(**disk) for disk in data.pop("disks", []))
        nics = tuple(NicRequest(**nic) for nic in data.pop("nics", []))
        host = data.pop("pinned_host_in", None)
        return VmRequest(disks=disks, nics=nics, host=host, **data)


RunOnceSerializer = serializer_from_form(RunOnceForm, "RunOnceSerializer")
