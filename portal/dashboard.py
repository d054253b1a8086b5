"""The dashboard's figures, gathered from each app's selectors (portal is the
one place that knows every app)."""

from django.db.models import Count

from core.models import JobStatus
from core.selectors import events_visible_to, jobs_visible_to
from inventory import selectors as inventory


def dashboard_summary(user) -> dict:
    hosts = inventory.hosts_visible_to(user)
    host_states = dict(hosts.order_by().values_list("status").annotate(n=Count("id")))
    return {
        "counts": [
            ("Data centers", inventory.data_centers_visible_to(user).count(), "inventory:datacenter-list"),
            ("Clusters", inventory.clusters_visible_to(user).count(), "inventory:cluster-list"),
            ("Hosts", sum(host_states.values()), "inventory:host-list"),
            ("Storage domains", inventory.storage_domains_visible_to(user).count(), "inventory:storagedomain-list"),
        ],
        "host_states": sorted(host_states.items()),
        "active_jobs": list(jobs_visible_to(user).filter(status__in=JobStatus.ACTIVE)[:10]),
        "recent_events": list(events_visible_to(user)[:8]),
    }
