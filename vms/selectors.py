"""Permission-scoped reads of VMs and the catalogue, and what VMs commit on
their hosts and clusters."""

from collections.abc import Iterable

from django.contrib.contenttypes.models import ContentType
from django.db.models import CharField, Count, Exists, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import Cast, Coalesce
from django.urls import reverse

from core.models import Job, JobStatus
from core.permissions import restrict
from inventory.capacity import Commitment, Workload
from vms.choices import VmStatus
from vms.models import VCPUS, InstanceType, OperatingSystem, Vm


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


# The jobs that hold a VM image_locked while it may keep running (vms/tasks.py;
# vms/services/snapshots.py): their second argument is the status it had.
HOLDING_RUNNING_JOBS = ("vm.snapshot_create", "vm.snapshot_restore", "vm.snapshot_delete")


def vms_committing() -> Q:
    """The VMs that hold memory and vCPUs on their host: those running, one
    whose creation job will start it, from its creation on (it was placed
    with the others and must count before its disks are made), and a running
    one locked by a snapshot job."""
    def active_jobs(**conditions):
        return Job.objects.filter(status__in=JobStatus.ACTIVE, target_type=ContentType.objects.get_for_model(Vm),
                                  target_id=Cast(OuterRef("pk"), CharField()), **conditions)

    starting = active_jobs(kind="vm.create", args__0=True)  # vm.create's first argument: start it once created
    snapshotting = active_jobs(kind__in=HOLDING_RUNNING_JOBS, args__1__in=list(VmStatus.RUNNING))
    return Q(status__in=VmStatus.RUNNING) | Q(Exists(starting) | Exists(snapshotting), status=VmStatus.IMAGE_LOCKED)


def vms_with_active_jobs(vms: QuerySet[Vm], **conditions) -> set[int]:
    """The ids of ``vms`` that a pending or running job (of ``conditions``,
    e.g. kind="vm.migrate") holds: the evacuation and the balancer wait for them."""
    ids = [str(pk) for pk in vms.values_list("pk", flat=True)]
    return {int(pk) for pk in Job.objects.filter(
        status__in=JobStatus.ACTIVE, target_type=ContentType.objects.get_for_model(Vm), target_id__in=ids,
        **conditions).values_list("target_id", flat=True)}


def vms_commitment(key: str, ids: Iterable[int], *, leaving_out_vm: int | None = None) -> dict[int, Commitment]:
    """What the committing VMs hold, summed per ``key`` (cluster_id or host_id):
    the one aggregate behind the capacity pages, the API, the wizard and
    placement. ``leaving_out_vm`` is not counted (it is being placed again)."""
    vms = Vm.objects.filter(vms_committing(), **{f"{key}__in": list(ids)})
    if leaving_out_vm is not None:
        vms = vms.exclude(pk=leaving_out_vm)
    rows = vms.values(key).annotate(
        memory=Coalesce(Sum("memory_mb"), 0),
        guaranteed=Coalesce(Sum("memory_guaranteed_mb"), 0),
        vcpus=Coalesce(Sum(VCPUS), 0),
        count=Count("id"),
    ).order_by()
    return {
        row[key]: Commitment(memory_mb=row["memory"], vcpus=row["vcpus"], workloads=row["count"],
                             memory_guaranteed_mb=row["guaranteed"])
        for row in rows
    }


def clusters_commitment(cluster_ids: list[int]) -> dict[int, Commitment]:
    """What the VMs of each cluster commit (inventory's capacity hook)."""
    return vms_commitment("cluster_id", cluster_ids)


def hosts_commitment(host_ids: list[int]) -> dict[int, Commitment]:
    return vms_commitment("host_id", host_ids)


def host_workloads(host_id: int) -> list[Workload]:
    """The VMs running on a host, biggest first (the host page lists them)."""
    vms = Vm.objects.filter(host_id=host_id, status__in=VmStatus.RUNNING).order_by("-memory_mb", "name")
    return [
        Workload(name=vm.name, url=reverse("vms:vm-detail", args=[vm.pk]), status=vm.status, memory_mb=vm.memory_mb,
                 vcpus=vm.vcpus)
        for vm in vms
    ]
