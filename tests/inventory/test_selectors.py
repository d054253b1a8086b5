"""inventory/selectors.py: the data centers' counts, read by the list page,
the data center page and the API."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory.choices import HostStatus
from inventory.selectors import data_centers_visible_to
from tests.inventory.factories import ClusterFactory, DataCenterFactory, HostFactory

pytestmark = pytest.mark.django_db


def test_it_counts_each_data_centers_clusters_and_hosts_by_status(admin):
    busy = DataCenterFactory(name="busy")
    DataCenterFactory(name="empty")  # no clusters: every count is 0
    ClusterFactory(data_center=busy)  # no hosts: still a cluster
    for cluster_status in ((HostStatus.UP, HostStatus.UP, HostStatus.MAINTENANCE), (HostStatus.NON_RESPONSIVE,)):
        cluster = ClusterFactory(data_center=busy)
        for status in cluster_status:
            HostFactory(cluster=cluster, status=status)
    counts = {dc.name: (dc.cluster_count, dc.host_count, dc.up_hosts, dc.maintenance_hosts)
              for dc in data_centers_visible_to(admin)}
    assert counts == {"busy": (3, 4, 2, 1), "empty": (0, 0, 0, 0)}


def test_the_counts_are_subqueries_not_joins_that_multiply_with_the_inventory(admin):
    DataCenterFactory()
    with CaptureQueriesContext(connection) as captured:
        list(data_centers_visible_to(admin))
    [query] = [q["sql"] for q in captured.captured_queries if 'FROM "inventory_datacenter"' in q["sql"]]
    assert "GROUP BY" not in query and "DISTINCT" not in query
    assert query.count("COUNT(") == 4
