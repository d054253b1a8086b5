"""The VM lists' filters, search and ordering: one FilterSet per list, read by
the VM list page (vms/views/pages.py) and the API viewsets alike."""

from django_filters import rest_framework as filters

from core.filters import IdFilter, ListFilterSet, ListOrderingFilter
from vms.models import VCPUS, InstanceType, OperatingSystem, Template, Vm


class VmFilterSet(ListFilterSet):
    # Names only: host, OS and owner have their own filters (the search box says so).
    search_fields = ("name",)
    cluster = IdFilter()
    host = IdFilter()
    owner = IdFilter()
    # The catalogue's short id (``debian12``); not looked up, as the other references.
    os_type = filters.CharFilter()
    ordering = ListOrderingFilter(fields={
        "name": "name", "status": "status", "cluster__name": "cluster", "host__name": "host",
        "owner__username": "owner", "os_type__name": "os_type", "memory_mb": "memory_mb", "vcpu_total": "vcpus",
        "created_at": "created_at"})

    class Meta:
        model = Vm
        fields = ["cluster", "host", "status", "owner", "os_type", "origin", "optimization"]

    def filter_queryset(self, queryset):
        # The vCPU count is stored as its factors; ordering by it needs the product.
        return super().filter_queryset(queryset.annotate(vcpu_total=VCPUS))


class OperatingSystemFilterSet(ListFilterSet):
    ordering = ListOrderingFilter(fields={"name": "name", "release_date": "release_date"})

    class Meta:
        model = OperatingSystem
        fields = ["family", "virtio", "source"]


class InstanceTypeFilterSet(ListFilterSet):
    ordering = ListOrderingFilter(fields={"name": "name", "memory_mb": "memory_mb"})

    class Meta:
        model = InstanceType
        fields = []


class TemplateFilterSet(ListFilterSet):
    search_fields = ("name",)
    data_center = IdFilter()
    base_template = IdFilter()
    os_type = filters.CharFilter()  # the catalogue's short id, as for VMs
    ordering = ListOrderingFilter(fields={
        "name": "name", "status": "status", "data_center__name": "data_center", "os_type__name": "os_type",
        "version_number": "version_number", "created_at": "created_at"})

    class Meta:
        model = Template
        fields = ["data_center", "status", "os_type", "base_template"]
