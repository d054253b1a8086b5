"""Permission-scoped reads of the inventory, with the counts and derived status the pages show."""

from django.db.models import Count, F, Func, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum

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

def _count_of(rows: QuerySet, **conditions) -> Subquery:
    """How many of ``rows`` (tied to the outer row by OuterRef) match
    ``conditions``, as a correlated subquery: each count reads only its own
    rows, where joining clusters to hosts and counting DISTINCT multiplied the
    rows the outer query grouped as the inventory grew. COUNT as a plain
    function, not an aggregate: Django adds no GROUP BY, so it is one row, 0 for none."""
    counted = rows.filter(**conditions).order_by().annotate(n=Func(F("pk"), function="COUNT")).values("n")
    return Subquery(counted, output_field=IntegerField())


def data_centers_visible_to(user) -> QuerySet[DataCenter]:
    hosts = Host.objects.filter(cluster__data_center=OuterRef("pk"))
    return restrict(DataCenter.objects.all(), user).select_related("spm_host").annotate(
        host_count=_count_of(hosts),
        up_hosts=_count_of(hosts, status=HostStatus.UP),
        maintenance_hosts=_count_of(hosts, status=HostStatus.MAINTENANCE),
        cluster_count=_count_of(Cluster.objects.filter(data_center=OuterRef("pk"))),
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
