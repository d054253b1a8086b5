from django.db.models import Count, Q, QuerySet

from core.permissions import restrict
from inventory.choices import DataCenterStatus, HostStatus
from inventory.models import Cluster, DataCenter, Host, StorageDomain


def data_center_status(*, host_count: int, up_hosts: int) -> str:
    if host_count == 0:
        return DataCenterStatus.UNINITIALIZED
    return DataCenterStatus.UP if up_hosts else DataCenterStatus.PROBLEMATIC


# Annotated querysets are grouped, and Django drops Meta.ordering from grouped
# queries: without an explicit order_by, pages could skip or repeat rows.

def data_centers_visible_to(user) -> QuerySet[DataCenter]:
    return restrict(DataCenter.objects.all(), user).select_related("spm_host").annotate(
        host_count=Count("clusters__hosts", distinct=True),
        up_hosts=Count("clusters__hosts", filter=Q(clusters__hosts__status=HostStatus.UP), distinct=True),
        cluster_count=Count("clusters", distinct=True),
    ).order_by("name")


def clusters_visible_to(user) -> QuerySet[Cluster]:
    return restrict(Cluster.objects.all(), user).select_related("data_center").annotate(
        host_count=Count("hosts", distinct=True)
    ).order_by("name")


def hosts_visible_to(user) -> QuerySet[Host]:
    # is_spm needs only the data center's spm_host_id, not the SPM host's row.
    return restrict(Host.objects.all(), user).select_related("cluster__data_center")


def storage_domains_visible_to(user) -> QuerySet[StorageDomain]:
    return restrict(StorageDomain.objects.all(), user).select_related("data_center")
