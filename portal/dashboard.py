"""The dashboard's figures, gathered from each app's selectors (portal is the
one place that knows every app). Capacity comes from inventory/capacity.py,
the same figures the cluster page draws; nothing is aggregated twice."""

from django.db.models import Count

from core.models import JobStatus
from core.selectors import events_visible_to, jobs_visible_to
from inventory import selectors as inventory
from inventory.capacity import cluster_capacity, clusters_commitment, percent
from vms.choices import VmStatus
from vms.selectors import vms_visible_to

# The dashboard is a summary: the first few, with a link to the full list.
DASHBOARD_ROWS = 8


def _status_counts(queryset) -> dict[str, int]:
    return dict(queryset.order_by().values_list("status").annotate(n=Count("id")))


def _cluster_utilization(user) -> list[dict]:
    """Memory and vCPUs committed against what each cluster's up hosts offer."""
    clusters = list(inventory.clusters_visible_to(user)[:DASHBOARD_ROWS])
    committed = clusters_commitment(cluster.pk for cluster in clusters)
    return [{"cluster": cluster, "bars": cluster_capacity(cluster, committed[cluster.pk]).bars()}
            for cluster in clusters]


def _vm_states(user) -> tuple[int, list[dict]]:
    """How many VMs the user sees, and per status how many and which share of
    them, in the order vms.choices declares the statuses."""
    counts = _status_counts(vms_visible_to(user))
    total = sum(counts.values())
    return total, [
        {"status": status, "count": counts[status], "percent": percent(counts[status], total),
         "title": f"{VmStatus.label(status)}: {counts[status]} of {total} virtual machines"}
        for status in VmStatus.values() if counts.get(status)
    ]


def dashboard_summary(user) -> dict:
    host_states = _status_counts(inventory.hosts_visible_to(user))
    storage_domains = inventory.storage_domains_visible_to(user).order_by("name")
    vm_total, vm_states = _vm_states(user)
    return {
        "counts": [
            ("Data centers", inventory.data_centers_visible_to(user).count(), "inventory:datacenter-list"),
            ("Clusters", inventory.clusters_visible_to(user).count(), "inventory:cluster-list"),
            ("Hosts", sum(host_states.values()), "inventory:host-list"),
            ("Storage domains", storage_domains.count(), "inventory:storagedomain-list"),
            ("Virtual machines", vm_total, "vms:vm-list"),
        ],
        "host_states": sorted(host_states.items()),
        "cluster_utilization": _cluster_utilization(user),
        "vm_states": vm_states,
        "storage_domains": list(storage_domains[:DASHBOARD_ROWS]),
        "active_jobs": list(jobs_visible_to(user).filter(status__in=JobStatus.ACTIVE)[:10]),
        "recent_events": list(events_visible_to(user)[:8]),
    }
