"""Read-only pages; the inventory issue adds forms and actions."""

from functools import reduce
from operator import or_

from django.contrib.auth.decorators import login_required
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404, render

from core.selectors import events_visible_to
from inventory import selectors
from inventory.actions import object_actions
from inventory.capacity import cluster_capacity, clusters_commitment, host_workloads, hosts_commitment, percent
from inventory.choices import PowerAgent
from inventory.forms import IMAGE_DOMAIN_TYPES
from inventory.bmc import DEFAULT_IPMI_PORT
from inventory.selectors import data_center_status
from inventory.services.network import network_usage


def _events_about(user, obj, limit: int = 20):
    return events_visible_to(user).filter(target_id=str(obj.pk), target_type__model=obj._meta.model_name)[:limit]


def _search_and_sort(request, queryset: QuerySet, *, search: tuple[str, ...], sorts: dict[str, str]):
    """?q= searches the given fields; ?sort=key (or -key) orders by one of
    the allowed columns. Returns the queryset and the template context."""
    query = request.GET.get("q", "").strip()
    if query:
        queryset = queryset.filter(reduce(or_, (Q(**{f"{field}__icontains": query}) for field in search)))
    sort = request.GET.get("sort", "")
    if sort.lstrip("-") in sorts:
        queryset = queryset.order_by(("-" if sort.startswith("-") else "") + sorts[sort.lstrip("-")], "pk")
    return queryset, {"sort_fields": list(sorts)}


@login_required
def datacenter_list(request):
    data_centers = selectors.data_centers_visible_to(request.user)
    if classification := request.GET.get("classification"):
        data_centers = data_centers.filter(classification=classification)
    data_centers, sorting = _search_and_sort(request, data_centers, search=("name", "description"), sorts={
        "name": "name", "classification": "classification", "clusters": "cluster_count", "hosts": "host_count"})
    data_centers = list(data_centers)
    for dc in data_centers:
        dc.status = data_center_status(dc)
    return render(request, "inventory/datacenter_list.html", {"data_centers": data_centers, **sorting})


@login_required
def datacenter_detail(request, pk: int):
    dc = get_object_or_404(selectors.data_centers_visible_to(request.user), pk=pk)
    dc.status = data_center_status(dc)
    return render(request, "inventory/datacenter_detail.html", {
        "dc": dc,
        "object_actions": object_actions(request.user, "datacenters", dc),
        "clusters": selectors.clusters_visible_to(request.user).filter(data_center=dc),
        "storage_domains": selectors.storage_domains_visible_to(request.user).filter(data_center=dc),
        "events": _events_about(request.user, dc),
    })


@login_required
def cluster_list(request):
    clusters, sorting = _search_and_sort(
        request, selectors.clusters_visible_to(request.user), search=("name", "description", "cpu_model"),
        sorts={"name": "name", "data_center": "data_center__name", "overcommit": "memory_overcommit_percent",
               "hosts": "host_count"})
    return render(request, "inventory/cluster_list.html", {"clusters": clusters, **sorting})


@login_required
def cluster_detail(request, pk: int):
    cluster = get_object_or_404(selectors.clusters_visible_to(request.user), pk=pk)
    capacity = cluster_capacity(cluster, clusters_commitment([cluster.pk])[cluster.pk])
    return render(request, "inventory/cluster_detail.html", {
        "cluster": cluster,
        "object_actions": object_actions(request.user, "clusters", cluster),
        "capacity": capacity,
        "capacity_bars": capacity.bars(),
        "hosts": selectors.hosts_visible_to(request.user).filter(cluster=cluster),
        "events": _events_about(request.user, cluster),
    })


@login_required
def host_list(request):
    hosts = selectors.hosts_visible_to(request.user)
    if status := request.GET.get("status"):
        hosts = hosts.filter(status=status)
    hosts, sorting = _search_and_sort(request, hosts, search=("name", "uri", "hostname"), sorts={
        "name": "name", "cluster": "cluster__name", "status": "status", "cpu": "cpu_total", "memory": "memory_mb"})
    return render(request, "inventory/host_list.html", {"hosts": hosts, **sorting})


@login_required
def host_detail(request, pk: int):
    host = get_object_or_404(selectors.hosts_visible_to(request.user), pk=pk)
    commitment = hosts_commitment([host.pk])[host.pk]
    return render(request, "inventory/host_detail.html", {
        "host": host,
        "object_actions": object_actions(request.user, "hosts", host),
        "power_facts": [
            ("Enabled", "yes" if host.pm_enabled else "no (settings kept, not used)"),
            ("Agent", PowerAgent.label(host.pm_agent)),
            ("BMC", f"{host.pm_address}:{host.pm_port or DEFAULT_IPMI_PORT}"),
            ("User name", host.pm_username or "—"),
            ("Password", "set" if host.pm_password_encrypted else "not set"),
            ("Options", host.pm_options or "—"),
        ],
        "is_spm": host.cluster.data_center.spm_host_id == host.pk,
        "commitment": commitment,
        "memory_bar": (f"Memory committed: {commitment.memory_mb} of {host.memory_mb or 0} MiB physical",
                       percent(commitment.memory_mb, host.memory_mb or 0)),
        "workloads": host_workloads(host.pk),
        "events": _events_about(request.user, host),
    })


@login_required
def storagedomain_list(request):
    domains, sorting = _search_and_sort(
        request, selectors.storage_domains_visible_to(request.user),
        search=("name", "path", "description", "nfs_server", "nfs_export"),
        sorts={"name": "name", "data_center": "data_center__name", "type": "domain_type", "status": "status",
               "capacity": "capacity_bytes"})
    return render(request, "inventory/storagedomain_list.html", {"storage_domains": domains, **sorting})


@login_required
def storagedomain_detail(request, pk: int):
    domain = get_object_or_404(selectors.storage_domains_visible_to(request.user), pk=pk)
    images, sorting = _search_and_sort(
        request, selectors.images_visible_to(request.user).filter(storage_domain=domain).select_related("owner"),
        search=("name", "format"), sorts=IMAGE_SORTS)
    return render(request, "inventory/storagedomain_detail.html", {
        "domain": domain, "object_actions": object_actions(request.user, "storage", domain),
        "images": images, "uploadable": domain.domain_type in IMAGE_DOMAIN_TYPES,
        "events": _events_about(request.user, domain), **sorting})


@login_required
def network_list(request):
    networks = selectors.networks_visible_to(request.user)
    if status := request.GET.get("status"):
        networks = networks.filter(status=status)
    networks, sorting = _search_and_sort(request, networks, search=("name", "description", "bridge"), sorts={
        "name": "name", "data_center": "data_center__name", "vlan": "vlan", "status": "status", "mtu": "mtu"})
    return render(request, "inventory/network_list.html", {"networks": networks, **sorting})


@login_required
def network_detail(request, pk: int):
    network = get_object_or_404(selectors.networks_visible_to(request.user), pk=pk)
    return render(request, "inventory/network_detail.html", {
        "network": network, "object_actions": object_actions(request.user, "networks", network),
        "usage": network_usage(network), "events": _events_about(request.user, network)})


IMAGE_SORTS = {"name": "name", "storage_domain": "storage_domain__name", "content": "content", "format": "format",
               "virtual_size": "virtual_size_bytes", "actual_size": "actual_size_bytes", "status": "status",
               "created": "created_at"}


@login_required
def image_list(request):
    images = selectors.images_visible_to(request.user).select_related("owner")
    if content := request.GET.get("content"):
        images = images.filter(content=content)
    images, sorting = _search_and_sort(request, images, search=("name", "format", "storage_domain__name"),
                                       sorts=IMAGE_SORTS)
    return render(request, "inventory/image_list.html", {"images": images, **sorting})
