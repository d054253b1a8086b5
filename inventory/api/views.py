"""Read-only for now: the inventory issue adds create, edit, delete and the
host actions."""

from rest_framework import viewsets

from inventory import selectors
from inventory.api.serializers import (
    ClusterSerializer,
    DataCenterSerializer,
    HostSerializer,
    StorageDomainSerializer,
)


class DataCenterViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = DataCenterSerializer
    filterset_fields = ["classification", "storage_type"]
    ordering_fields = ["name"]

    def get_queryset(self):
        return selectors.data_centers_visible_to(self.request.user)


class ClusterViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ClusterSerializer
    filterset_fields = ["data_center", "scheduling_policy"]
    ordering_fields = ["name"]

    def get_queryset(self):
        return selectors.clusters_visible_to(self.request.user)


class HostViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = HostSerializer
    filterset_fields = ["cluster", "status", "kvm"]
    ordering_fields = ["name", "status", "memory_mb", "cpu_total"]

    def get_queryset(self):
        return selectors.hosts_visible_to(self.request.user)


class StorageDomainViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = StorageDomainSerializer
    filterset_fields = ["data_center", "domain_type", "storage_type", "status"]
    ordering_fields = ["name", "available_bytes"]

    def get_queryset(self):
        return selectors.storage_domains_visible_to(self.request.user)
