from django.db.models import Count, F, Q, QuerySet, Sum

from core.permissions import restrict
from inventory.choices import DataCenterStatus, HostStatus
from inventory.models import Cluster, DataCenter, Host, Image, Network, StorageDomain


def data_center_status(data_center: DataCenter) -> str:
    """Derived, as oVirt does: up needs an SPM that is up (storage is managed
    through it); every host in maintenance is maintenance; anything else with
    hosts is problematic. Takes a data center from data_centers_visible_to."""
    if data_center.host_count == 0:
        return DataCenterStatus.UNINITIALIZED
    if data_center.maintenance_hosts == data_center.host_count:
        return DataCenterStatus.MAINTENANCE
    spm = data_center.spm_host
    if spm is not None and spm.status == HostStatus.UP:
        return DataCenterStatus.UP
    return DataCenterStatus.PROBLEMATIC


# Annotated querysets are grouped, and Django drops Meta.ordering from grouped
# queries: without an explicit order_by, pages could skip or repeat rows.

def data_centers_visible_to(user) -> QuerySet[DataCenter]:
    return restrict(DataCenter.objects.all(), user).select_related("spm_host").annotate(
        host_count=Count("clusters__hosts", distinct=True),
        up_hosts=Count("clusters__hosts", filter=Q(clusters__hosts__status=HostStatus.UP), distinct=True),
        maintenance_hosts=Count(
            "clusters__hosts", filter=Q(clusters__hosts__status=HostStatus.MAINTENANCE), distinct=True
        ),
        cluster_count=Count("clusters", distinct=True),
    ).order_by("name")


def clusters_visible_to(user) -> QuerySet[Cluster]:
    up = Q(hosts__status=HostStatus.UP)
    return restrict(Cluster.objects.all(), user).select_related("data_center").annotate(
        host_count=Count("hosts", distinct=True),
        # What the up hosts offer (inventory.capacity turns it into capacity).
        up_memory_mb=Sum("hosts__memory_mb", filter=up),
        up_threads=Sum("hosts__cpu_total", filter=up),
        up_cores=Sum(F("hosts__cpu_sockets") * F("hosts__cpu_cores_per_socket"), filter=up),
    ).order_by("name")


def hosts_visible_to(user) -> QuerySet[Host]:
    # is_spm needs only the data center's spm_host_id, not the SPM host's row.
    return restrict(Host.objects.all(), user).select_related("cluster__data_center")


def storage_domains_visible_to(user) -> QuerySet[StorageDomain]:
    return restrict(StorageDomain.objects.all(), user).select_related("data_center")


def networks_visible_to(user) -> QuerySet[Network]:
    return restrict(Network.objects.all(), user).select_related("data_center")


def images_visible_to(user) -> QuerySet[Image]:
    return restrict(Image.objects.all(), user).select_related("storage_domain")
