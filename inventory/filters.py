"""The inventory lists' filters, search and ordering: one FilterSet per list,
read by its page (inventory/views.py) and its API viewset alike.

Ordering keys are the field names the API shows (``memory_mb``), a related
object's name by the relation's name (``cluster``), and the counts by their
annotation (``host_count``, from inventory/selectors.py)."""

from core.filters import IdFilter, ListFilterSet, ListOrderingFilter
from inventory.models import Cluster, DataCenter, Host, Image, Network, StorageDomain


class DataCenterFilterSet(ListFilterSet):
    search_fields = ("name", "description")
    ordering = ListOrderingFilter(fields={
        "name": "name", "classification": "classification", "cluster_count": "cluster_count",
        "host_count": "host_count"})

    class Meta:
        model = DataCenter
        fields = ["classification", "storage_type"]


class ClusterFilterSet(ListFilterSet):
    search_fields = ("name", "description", "cpu_model")
    data_center = IdFilter()
    ordering = ListOrderingFilter(fields={
        "name": "name", "data_center__name": "data_center",
        "memory_overcommit_percent": "memory_overcommit_percent", "host_count": "host_count"})

    class Meta:
        model = Cluster
        fields = ["data_center", "scheduling_policy"]


class HostFilterSet(ListFilterSet):
    search_fields = ("name", "uri", "hostname")
    cluster = IdFilter()
    ordering = ListOrderingFilter(fields={
        "name": "name", "cluster__name": "cluster", "status": "status", "cpu_total": "cpu_total",
        "memory_mb": "memory_mb"})

    class Meta:
        model = Host
        fields = ["cluster", "status", "kvm"]


class StorageDomainFilterSet(ListFilterSet):
    search_fields = ("name", "path", "description", "nfs_server", "nfs_export")
    data_center = IdFilter()
    ordering = ListOrderingFilter(fields={
        "name": "name", "data_center__name": "data_center", "domain_type": "domain_type", "status": "status",
        "capacity_bytes": "capacity_bytes", "available_bytes": "available_bytes"})

    class Meta:
        model = StorageDomain
        fields = ["data_center", "domain_type", "storage_type", "status"]


class NetworkFilterSet(ListFilterSet):
    search_fields = ("name", "description", "bridge")
    data_center = IdFilter()
    ordering = ListOrderingFilter(fields={
        "name": "name", "data_center__name": "data_center", "vlan": "vlan", "status": "status", "mtu": "mtu"})

    class Meta:
        model = Network
        fields = ["data_center", "vm_network", "status"]


class ImageFilterSet(ListFilterSet):
    search_fields = ("name", "format", "storage_domain__name")
    storage_domain = IdFilter()
    ordering = ListOrderingFilter(fields={
        "name": "name", "storage_domain__name": "storage_domain", "content": "content", "format": "format",
        "virtual_size_bytes": "virtual_size_bytes", "actual_size_bytes": "actual_size_bytes", "status": "status",
        "created_at": "created_at"})

    class Meta:
        model = Image
        fields = ["storage_domain", "content", "format", "status"]
