from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

import hypervisor
from core.errors import InvalidInput
from inventory.models import Cluster, DataCenter, Host, StorageDomain
from inventory.scheduling import scheduling_parameters_clean
from inventory.selectors import data_center_status
from inventory.validation import storage_path_clean


class DataCenterSerializer(serializers.HyperlinkedModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:datacenter-detail")
    status = serializers.SerializerMethodField()
    spm_host = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = DataCenter
        fields = ["id", "url", "name", "description", "classification", "storage_type", "status", "spm_host"]

    def get_status(self, data_center) -> str:
        return data_center_status(data_center)


class ClusterSerializer(serializers.HyperlinkedModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:cluster-detail")
    data_center = serializers.PrimaryKeyRelatedField(queryset=DataCenter.objects.all())

    class Meta:
        model = Cluster
        fields = [
            "id", "url", "name", "description", "data_center", "cpu_model",
            "memory_overcommit_percent", "scheduling_policy", "scheduling_parameters",
            "migration_policy", "migration_bandwidth_mbps", "reserved_headroom_percent",
            "ksm_enabled", "ballooning_enabled", "threads_as_cores",
        ]

    def validate(self, attrs):
        policy = attrs.get("scheduling_policy", getattr(self.instance, "scheduling_policy", "none"))
        given = attrs.get("scheduling_parameters")
        if given is None and self.instance is not None and "scheduling_policy" not in attrs:
            return attrs
        try:
            attrs["scheduling_parameters"] = scheduling_parameters_clean(policy=policy, given=given or {})
        except InvalidInput as error:
            raise serializers.ValidationError({"scheduling_parameters": [error.detail]})
        return attrs


@extend_schema_field({
    "type": "object",
    "properties": {
        "model": {"type": "string"}, "sockets": {"type": "integer"},
        "cores_per_socket": {"type": "integer"}, "threads_per_core": {"type": "integer"},
        "total": {"type": "integer"},
    },
})
class HostCpuField(serializers.Field):
    def __init__(self, **kwargs):
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, host):
        return {
            "model": host.cpu_model,
            "sockets": host.cpu_sockets,
            "cores_per_socket": host.cpu_cores_per_socket,
            "threads_per_core": host.cpu_threads_per_core,
            "total": host.cpu_total,
        }


class HostSerializer(serializers.HyperlinkedModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:host-detail")
    cluster = serializers.PrimaryKeyRelatedField(queryset=Cluster.objects.all())
    is_spm = serializers.SerializerMethodField()
    cpu = HostCpuField()

    class Meta:
        model = Host
        fields = [
            "id", "url", "name", "cluster", "uri", "spm_priority", "status", "status_reason",
            "is_spm", "cpu", "memory_mb", "numa_nodes", "kvm", "domain_type",
            "libvirt_version", "qemu_version", "hostname", "facts_updated_at", "last_seen_at",
        ]
        read_only_fields = [
            "status", "status_reason", "memory_mb", "numa_nodes", "kvm", "domain_type",
            "libvirt_version", "qemu_version", "hostname", "facts_updated_at", "last_seen_at",
        ]

    def get_is_spm(self, host) -> bool:
        return host.cluster.data_center.spm_host_id == host.pk

    def validate_uri(self, uri: str) -> str:
        try:
            return hypervisor.validate_uri(uri)
        except hypervisor.InvalidURI as error:
            raise serializers.ValidationError(error.message)


class StorageDomainSerializer(serializers.HyperlinkedModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:storagedomain-detail")
    data_center = serializers.PrimaryKeyRelatedField(queryset=DataCenter.objects.all())

    class Meta:
        model = StorageDomain
        fields = [
            "id", "url", "name", "description", "data_center", "domain_type", "storage_type",
            "path", "status", "capacity_bytes", "allocated_bytes", "available_bytes",
        ]
        read_only_fields = ["status", "capacity_bytes", "allocated_bytes", "available_bytes"]

    def validate_path(self, path: str) -> str:
        try:
            return storage_path_clean(path)
        except InvalidInput as error:
            raise serializers.ValidationError(error.detail)
