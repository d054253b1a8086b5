"""The inventory's REST shapes (API.md): data centers, clusters, hosts, storage domains, networks, images."""

from dataclasses import asdict

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

import hypervisor
from core.errors import InvalidInput
from inventory.capacity import cluster_capacity, clusters_commitment, hosts_commitment
from inventory.choices import PowerAgent
from inventory.models import Cluster, DataCenter, Host, Image, Network, StorageDomain
from inventory.services.power import host_power_fields
from inventory.scheduling import scheduling_parameters_clean
from inventory.selectors import data_center_status
from inventory.validation import storage_path_clean, storage_source_errors


class DataCenterSerializer(serializers.HyperlinkedModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:datacenter-detail")
    status = serializers.SerializerMethodField()
    spm_host = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = DataCenter
        fields = ["id", "url", "name", "description", "classification", "storage_type", "status", "spm_host"]

    def get_status(self, data_center) -> str:
        return data_center_status(data_center)


@extend_schema_field({
    "type": "object",
    "properties": {name: {"type": "integer"} for name in (
        "physical_memory_mb", "memory_mb", "memory_committed_mb", "vcpus", "vcpus_committed")},
})
class ClusterCapacityField(serializers.Field):
    """Read-only; the list view hands in the commitments of its whole page
    (context "commitments") so that rows cost no query each."""

    def __init__(self, **kwargs):
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, cluster):
        commitments = self.context.get("commitments") or clusters_commitment([cluster.pk])
        return asdict(cluster_capacity(cluster, commitments[cluster.pk]))


class ClusterSerializer(serializers.HyperlinkedModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:cluster-detail")
    data_center = serializers.PrimaryKeyRelatedField(queryset=DataCenter.objects.all())
    capacity = ClusterCapacityField()

    class Meta:
        model = Cluster
        fields = [
            "id", "url", "name", "description", "data_center", "cpu_model",
            "memory_overcommit_percent", "scheduling_policy", "scheduling_parameters",
            "migration_policy", "migration_bandwidth_mbps", "reserved_headroom_percent",
            "ksm_enabled", "ballooning_enabled", "threads_as_cores", "shutdown_timeout_seconds", "capacity",
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


class PowerManagementSerializer(serializers.Serializer):
    """API.md's power_management: the password is write-only; reading says
    only whether one is set."""

    enabled = serializers.BooleanField(required=False, source="pm_enabled")
    agent = serializers.ChoiceField(PowerAgent.choices(), required=False, source="pm_agent")
    address = serializers.CharField(required=False, allow_blank=True, max_length=255, source="pm_address")
    port = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=65535, source="pm_port")
    username = serializers.CharField(required=False, allow_blank=True, max_length=128, source="pm_username")
    password = serializers.CharField(write_only=True, required=False, allow_blank=True, trim_whitespace=False)
    password_set = serializers.SerializerMethodField()
    options = serializers.CharField(required=False, allow_blank=True, max_length=512, source="pm_options")

    def get_password_set(self, host) -> bool:
        return bool(host.pm_password_encrypted)

    def to_internal_value(self, data):
        """Back to the names clients use; host_power_fields maps them."""
        values = super().to_internal_value(data)
        renamed = {key.removeprefix("pm_"): value for key, value in values.items()}
        return {"enabled" if key == "enabled" else key: value for key, value in renamed.items()}


class HostSerializer(serializers.HyperlinkedModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:host-detail")
    cluster = serializers.PrimaryKeyRelatedField(queryset=Cluster.objects.all())
    is_spm = serializers.SerializerMethodField()
    cpu = HostCpuField()
    power_management = PowerManagementSerializer(source="*", required=False)
    vm_count = serializers.SerializerMethodField(help_text="VMs running on the host.")
    memory_committed_mb = serializers.SerializerMethodField(help_text="Memory the running VMs commit.")

    class Meta:
        model = Host
        fields = [
            "id", "url", "name", "cluster", "uri", "spm_priority", "status", "status_reason",
            "is_spm", "cpu", "memory_mb", "numa_nodes", "kvm", "domain_type",
            "libvirt_version", "qemu_version", "hostname", "facts_updated_at", "last_seen_at",
            "power_management", "vm_count", "memory_committed_mb",
        ]
        read_only_fields = [
            "status", "status_reason", "memory_mb", "numa_nodes", "kvm", "domain_type",
            "libvirt_version", "qemu_version", "hostname", "facts_updated_at", "last_seen_at",
        ]

    def get_is_spm(self, host) -> bool:
        return host.cluster.data_center.spm_host_id == host.pk

    def _commitment(self, host):
        # The list view hands in its whole page's commitments (context "host_commitments").
        commitments = self.context.get("host_commitments") or hosts_commitment([host.pk])
        return commitments[host.pk]

    def get_vm_count(self, host) -> int:
        return self._commitment(host).workloads

    def get_memory_committed_mb(self, host) -> int:
        return self._commitment(host).memory_mb

    def validate_uri(self, uri: str) -> str:
        try:
            return hypervisor.validate_uri(uri)
        except hypervisor.InvalidURI as error:
            raise serializers.ValidationError(error.message)

    def validate(self, attrs):
        # source="*" merges the nested fields into attrs; take them back out.
        power = {key: attrs.pop(key) for key in list(attrs) if key in PowerManagementSerializer().fields}
        if power:
            try:
                attrs.update(host_power_fields(given=power, host=self.instance))
            except InvalidInput as error:
                raise serializers.ValidationError({"power_management": [error.detail]})
        return attrs


class StorageDomainSerializer(serializers.HyperlinkedModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:storagedomain-detail")
    data_center = serializers.PrimaryKeyRelatedField(queryset=DataCenter.objects.all())

    class Meta:
        model = StorageDomain
        fields = [
            "id", "url", "name", "description", "data_center", "domain_type", "storage_type",
            "path", "nfs_server", "nfs_export", "status", "capacity_bytes", "allocated_bytes", "available_bytes",
        ]
        read_only_fields = ["status", "capacity_bytes", "allocated_bytes", "available_bytes"]
        extra_kwargs = {
            "path": {"help_text": "The pool's directory on every host; for NFS, where the export is mounted."},
            "nfs_server": {"help_text": "NFS only: the server's host name or IP address."},
            "nfs_export": {"help_text": "NFS only: the exported directory on the server, e.g. /exports/data."},
        }

    def validate_path(self, path: str) -> str:
        try:
            return storage_path_clean(path)
        except InvalidInput as error:
            raise serializers.ValidationError(error.detail)

    def validate(self, attrs):
        """The NFS fields go with the storage type (a partial update is judged
        together with what the domain already has)."""
        def current(field: str, default: str = "") -> str:
            return attrs.get(field, getattr(self.instance, field, default) if self.instance else default)

        storage_type = current("storage_type", StorageDomain._meta.get_field("storage_type").default)
        errors = storage_source_errors(
            storage_type=storage_type, nfs_server=current("nfs_server"), nfs_export=current("nfs_export")
        )
        if errors:
            raise serializers.ValidationError({field: [message] for field, message in errors.items()})
        if "nfs_export" in attrs and attrs["nfs_export"]:
            attrs["nfs_export"] = storage_path_clean(attrs["nfs_export"])
        return attrs


class NetworkSerializer(serializers.HyperlinkedModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:network-detail")
    data_center = serializers.PrimaryKeyRelatedField(queryset=DataCenter.objects.all())

    class Meta:
        model = Network
        fields = ["id", "url", "name", "description", "data_center", "vm_network", "vlan", "mtu", "bridge", "status"]
        read_only_fields = ["status"]
        extra_kwargs = {
            "bridge": {
                "required": False, "allow_blank": True,
                "help_text": ("Without a VLAN: the Linux bridge the network owns on each host (empty: derived "
                              "from the name). With a VLAN: the hosts' Open vSwitch bridge that carries it "
                              "(empty: ovsbr0)."),
            },
            "vlan": {"help_text": "1-4094: the guests' ports are access ports of this VLAN on the hosts' "
                                  "Open vSwitch bridge. Null: untagged, on a Linux bridge of its own."},
        }
        # The bridge rules (one untagged network per Linux bridge, one network per
        # VLAN on an Open vSwitch bridge) are the service's, which says whose it is.
        validators = [
            serializers.UniqueTogetherValidator(queryset=Network.objects.all(), fields=["data_center", "name"]),
        ]

    def validate(self, attrs):
        from inventory.services.network import default_bridge, network_bridge_problem

        network = self.instance
        name = attrs.get("name", network.name if network else "")
        vlan = attrs.get("vlan", network.vlan if network else None)
        data_center = attrs.get("data_center", network.data_center if network else None)
        try:
            bridge = attrs.get("bridge") or (
                network.bridge if network and "bridge" not in attrs else default_bridge(name=name, vlan=vlan)
            )
        except InvalidInput as error:
            raise serializers.ValidationError({"bridge": [error.detail]})
        problem = network_bridge_problem(data_center=data_center, bridge=bridge, vlan=vlan, name=name,
                                         exclude_pk=network.pk if network else None)
        if problem:
            raise serializers.ValidationError({"bridge": [problem]})
        return attrs


class ImageSerializer(serializers.HyperlinkedModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:image-detail")
    storage_domain = serializers.PrimaryKeyRelatedField(queryset=StorageDomain.objects.all())
    file = serializers.FileField(write_only=True, use_url=False)
    owner = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = Image
        fields = [
            "id", "url", "name", "storage_domain", "content", "file", "format",
            "virtual_size_bytes", "actual_size_bytes", "status", "owner", "created_at",
        ]
        read_only_fields = ["format", "virtual_size_bytes", "actual_size_bytes", "status", "created_at"]
        # The service says "already has an image named ..." and deletes the upload.
        validators = []
