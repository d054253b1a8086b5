"""Read-only pages; the inventory issue adds forms and actions."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render

from core.filters import filter_list
from core.selectors import events_visible_to
from inventory import selectors
from inventory.actions import object_actions
from inventory.capacity import cluster_capacity, clusters_commitment, host_workloads, hosts_commitment, percent
from inventory.choices import PowerAgent
from inventory.filters import (
    ClusterFilterSet,
    DataCenterFilterSet,
    HostFilterSet,
    ImageFilterSet,
    NetworkFilterSet,
    StorageDomainFilterSet,
)
from inventory.forms import IMAGE_DOMAIN_TYPES
from inventory.bmc import DEFAULT_IPMI_PORT
from inventory.selectors import data_center_status
from inventory.services.network import network_usage


def _events_about(user, obj, limit: int = 20):
    return events_visible_to(user).filter(target_id=str(obj.pk), target_type__model=obj._meta.model_name)[:limit]




@login_required
def datacenter_list(request):
    data_centers, listing = filter_list(request, DataCenterFilterSet, selectors.data_centers_visible_to(request.user))
    data_centers = list(data_centers)
    for dc in data_centers:
        dc.status = data_center_status(dc)
    return render(request, "inventory/datacenter_list.html", {"data_centers": data_centers, **listing})


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
    clusters, listing = filter_list(request, ClusterFilterSet, selectors.clusters_visible_to(request.user))
    return render(request, "inventory/cluster_list.html", {"clusters": clusters, **listing})


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
    hosts, listing = filter_list(request, HostFilterSet, selectors.hosts_visible_to(request.user))
    return render(request, "inventory/host_list.html", {"hosts": hosts, **listing})


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
    domains, listing = filter_list(request, StorageDomainFilterSet, selectors.storage_domains_visible_to(request.user))
    return render(request, "inventory/storagedomain_list.html", {"storage_domains": domains, **listing})


@login_required
def storagedomain_detail(request, pk: int):
    domain = get_object_or_404(selectors.storage_domains_visible_to(request.user), pk=pk)
    images, listing = filter_list(
        request, ImageFilterSet,
        selectors.images_visible_to(request.user).filter(storage_domain=domain).select_related("owner"))
    return render(request, "inventory/storagedomain_detail.html", {
        "domain": domain, "object_actions": object_actions(request.user, "storage", domain),
        "images": images, "uploadable": domain.domain_type in IMAGE_DOMAIN_TYPES,
        "events": _events_about(request.user, domain), **listing})


@login_required
def network_list(request):
    networks, listing = filter_list(request, NetworkFilterSet, selectors.networks_visible_to(request.user))
    return render(request, "inventory/network_list.html", {"networks": networks, **listing})


@login_required
def network_detail(request, pk: int):
    network = get_object_or_404(selectors.networks_visible_to(request.user), pk=pk)
    return render(request, "inventory/network_detail.html", {
        "network": network, "object_actions": object_actions(request.user, "networks", network),
        "usage": network_usage(network), "events": _events_about(request.user, network)})


@login_required
def image_list(request):
    images = selectors.images_visible_to(request.user).select_related("owner")
    images, listing = filter_list(request, ImageFilterSet, images)
    return render(request, "inventory/image_list.html", {"images": images, **listing})
