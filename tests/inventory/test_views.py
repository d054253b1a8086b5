"""The read-only inventory pages, as a logged-in admin sees them."""

import pytest
from django.urls import reverse
from django.utils import timezone

from inventory.choices import HostStatus
from tests.inventory.factories import HostFactory, StorageDomainFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def host():
    return HostFactory(
        status=HostStatus.UP, cpu_sockets=2, cpu_cores_per_socket=2, cpu_threads_per_core=1, cpu_total=4,
        memory_mb=8192, numa_nodes=[{"index": 0, "cpus": [0, 1], "memory_mb": 4096},
                                    {"index": 1, "cpus": [2, 3], "memory_mb": 4096}],
        facts_updated_at=timezone.now(),
    )


@pytest.mark.parametrize("name", ["datacenter-list", "cluster-list", "host-list", "storagedomain-list"])
def test_it_sends_an_anonymous_visitor_to_the_login_page(client, name):
    response = client.get(reverse(f"inventory:{name}"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_it_lists_hosts_with_a_coloured_status_word(logged_in, host):
    page = logged_in.get(reverse("inventory:host-list")).content.decode()
    assert host.name in page
    assert 'data-status="up"' in page and ">Up<" in page


def test_it_draws_every_numa_node_and_cpu_on_the_host_page(logged_in, host):
    page = logged_in.get(reverse("inventory:host-detail", args=[host.pk])).content.decode()
    assert "NUMA node 0" in page and "NUMA node 1" in page
    assert [f'title="CPU {n}"' in page for n in range(4)] == [True] * 4
    assert page.count('title="CPU ') == 4


def test_it_says_the_facts_are_being_read_before_the_first_refresh(logged_in):
    host = HostFactory(status=HostStatus.CONNECTING)
    page = logged_in.get(reverse("inventory:host-detail", args=[host.pk])).content.decode()
    assert "NUMA node" not in page
    assert "Reading the host" in page


def test_it_shows_a_non_responsive_host_with_its_reason_instead_of_failing(logged_in):
    host = HostFactory(status=HostStatus.NON_RESPONSIVE, status_reason="Connection refused by 10.9.9.9")
    for url in (reverse("inventory:host-list"), reverse("inventory:host-detail", args=[host.pk])):
        response = logged_in.get(url)
        assert response.status_code == 200
        assert "Connection refused by 10.9.9.9" in response.content.decode()


def test_it_renders_every_inventory_page(logged_in, host):
    domain = StorageDomainFactory(data_center=host.cluster.data_center)
    urls = [
        reverse("dashboard"),
        reverse("inventory:datacenter-list"),
        reverse("inventory:datacenter-detail", args=[host.cluster.data_center.pk]),
        reverse("inventory:cluster-list"),
        reverse("inventory:cluster-detail", args=[host.cluster.pk]),
        reverse("inventory:storagedomain-list"),
        reverse("inventory:storagedomain-detail", args=[domain.pk]),
        reverse("core:job-list"),
        reverse("core:event-list"),
        reverse("core:job-tray"),
    ]
    for url in urls:
        assert logged_in.get(url).status_code == 200, url


def test_it_hides_a_host_from_a_user_without_grants(client, charlie, host):
    client.force_login(charlie)
    assert client.get(reverse("inventory:host-detail", args=[host.pk])).status_code == 404


def test_it_filters_hosts_by_status_with_a_link_for_every_status(logged_in):
    HostFactory(name="steady", status=HostStatus.UP)
    HostFactory(name="lost", status=HostStatus.NON_RESPONSIVE)
    page = logged_in.get(reverse("inventory:host-list") + "?status=non_responsive").content.decode()
    assert "lost" in page and "steady" not in page
    for status in HostStatus.values():
        assert f'href="?status={status}"' in page


def test_it_shows_the_cluster_capacity_panel(logged_in, host):
    page = logged_in.get(reverse("inventory:cluster-detail", args=[host.cluster.pk])).content.decode()
    assert "Memory committed: 0 of 8192 MiB" in page
    assert "vCPUs committed: 0 of 4" in page


def test_it_searches_and_sorts_the_host_list(logged_in):
    HostFactory(name="alpha", memory_mb=1024)
    HostFactory(name="beta", memory_mb=4096)
    HostFactory(name="gamma", memory_mb=2048)
    page = logged_in.get(reverse("inventory:host-list") + "?q=amm").content.decode()
    assert "gamma" in page and "alpha" not in page
    page = logged_in.get(reverse("inventory:host-list") + "?ordering=-memory_mb").content.decode()
    assert page.index("beta") < page.index("gamma") < page.index("alpha")
    assert 'aria-sort="descending"' in page and "ordering=memory_mb" in page


def test_it_ignores_an_unknown_sort_column(logged_in, host):
    assert logged_in.get(reverse("inventory:host-list") + "?ordering=password").status_code == 200
