from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.urls import reverse

from core.permissions import restrict
from inventory.capacity import Commitment, Workload
from vms.choices import VmStatus
from vms.models import InstanceType, OperatingSystem, Vm


def vms_visible_to(user) -> QuerySet[Vm]:
    """The VMs ``user`` was granted, and those they own."""
    base = Vm.objects.select_related("cluster", "host", "os_type", "owner", "data_center", "pinned_host")
    visible = restrict(base, user)
    if user and user.is_authenticated:
        visible = visible | base.filter(owner=user)
    return visible.order_by("name", "id")


def operating_systems() -> QuerySet[OperatingSystem]:
    return OperatingSystem.objects.all()


def instance_types() -> QuerySet[InstanceType]:
    return InstanceType.objects.all()


def clusters_commitment(cluster_ids: list[int]) -> dict[int, Commitment]:
    """What the running VMs of each cluster commit (inventory's capacity hook)."""
    return _commitment_by("cluster_id", cluster_ids)


def hosts_commitment(host_ids: list[int]) -> dict[int, Commitment]:
    return _commitment_by("host_id", host_ids)


def _commitment_by(key: str, ids: list[int]) -> dict[int, Commitment]:
    rows = (
        Vm.objects.filter(**{f"{key}__in": ids}, status__in=VmStatus.RUNNING)
        .values(key)
        .annotate(
            memory=Coalesce(Sum("memory_mb"), 0),
            vcpus=Coalesce(Sum(F("cpu_sockets") * F("cpu_cores") * F("cpu_threads")), 0),
            running=Count("id"),
        )
        .order_by()
    )
    return {row[key]: Commitment(memory_mb=row["memory"], vcpus=row["vcpus"], workloads=row["running"])
            for row in rows}


def host_workloads(host_id: int) -> list[Workload]:
    """The VMs running on a host, biggest first (the host page lists them)."""
    vms = Vm.objects.filter(host_id=host_id, status__in=VmStatus.RUNNING).order_by("-memory_mb", "name")
    return [
        Workload(name=vm.name, url=reverse("vms:vm-detail", args=[vm.pk]), status=vm.status, memory_mb=vm.memory_mb,
                 vcpus=vm.vcpus)
        for vm in vms
    ]


def vm_filter(queryset: QuerySet[Vm], *, q: str = "") -> QuerySet[Vm]:
    return queryset.filter(Q(name__icontains=q) | Q(description__icontains=q)) if q else queryset
