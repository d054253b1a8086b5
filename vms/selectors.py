from django.db.models import F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from core.permissions import restrict
from inventory.capacity import Commitment
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
    rows = (
        Vm.objects.filter(cluster_id__in=cluster_ids, status__in=VmStatus.RUNNING)
        .values("cluster_id")
        .annotate(
            memory=Coalesce(Sum("memory_mb"), 0),
            vcpus=Coalesce(Sum(F("cpu_sockets") * F("cpu_cores") * F("cpu_threads")), 0),
        )
        .order_by()
    )
    return {row["cluster_id"]: Commitment(memory_mb=row["memory"], vcpus=row["vcpus"]) for row in rows}


def vm_filter(queryset: QuerySet[Vm], *, q: str = "") -> QuerySet[Vm]:
    return queryset.filter(Q(name__icontains=q) | Q(description__icontains=q)) if q else queryset
