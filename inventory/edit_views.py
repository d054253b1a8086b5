"""The inventory's pages that change things: the kinds given to core's generic
create, edit and remove pages, the action buttons (host refresh, activate,
power test; storage and network attach, detach) and image upload and removal.
Every change goes through the same services as the API; refusals become form
or page messages."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.forms import ModelForm
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from core.crud import Kind, object_remove_page
from core.errors import PortalError
from core.permissions import require_permission
from inventory import forms, selectors, services
from inventory.services.images import image_remove as image_remove_service
from inventory.services.images import image_upload as image_upload_service
from inventory.services.fencing import host_confirm_rebooted as host_confirm_rebooted_service
from inventory.services.power import host_power_test as host_power_test_service
from inventory.uploads import upload_handlers_for, uploaded_file_path


def _update_storage(domain, form: ModelForm, user):
    return services.storage_domain_update(domain=domain, fields=form.cleaned_data, user=user)


def _remove_storage(domain, user):
    services.storage_domain_remove(domain=domain, user=user)


def _create_network(form: ModelForm, user):
    return services.network_create(user=user, **form.cleaned_data), None


def _update_network(network, form: ModelForm, user):
    return services.network_update(network=network, fields=dict(form.cleaned_data), user=user)


def _remove_network(network, user):
    services.network_remove(network=network, user=user)


def _create_host(form: ModelForm, user):
    return services.host_add(user=user, **form.cleaned_data)


def _update_host(host, form: ModelForm, user):
    return services.host_update(host=host, fields=dict(form.cleaned_data), user=user)


def _remove_host(host, user):
    services.host_remove(host=host, user=user)


# The kinds with generic create, edit and remove pages (core/crud.py), mounted
# by inventory/urls.py; plain rows use core's object services, the others their own.
DATACENTERS = Kind("datacenters", "data center", "Data centers", "inventory:datacenter", forms.DataCenterForm,
                   selectors.data_centers_visible_to)
CLUSTERS = Kind("clusters", "cluster", "Clusters", "inventory:cluster", forms.ClusterForm, selectors.clusters_visible_to)
HOSTS = Kind("hosts", "host", "Hosts", "inventory:host", forms.HostForm, selectors.hosts_visible_to,
             create=_create_host, update=_update_host, remove=_remove_host)
STORAGE_DOMAINS = Kind("storage", "storage domain", "Storage domains", "inventory:storagedomain",
                       forms.StorageDomainForm, selectors.storage_domains_visible_to,
                       update=_update_storage, remove=_remove_storage)
NETWORKS = Kind("networks", "network", "Networks", "inventory:network", forms.NetworkForm,
                selectors.networks_visible_to, create=_create_network, update=_update_network,
                remove=_remove_network)
KINDS = (DATACENTERS, CLUSTERS, HOSTS, STORAGE_DOMAINS, NETWORKS)


def _start_job(request, kind: Kind, pk: int, start: Callable, argument: str):
    """An action button: start the job and show it, or say why not."""
    obj = get_object_or_404(kind.selector(request.user), pk=pk)
    try:
        require_permission(request.user, "change", obj)
        job = start(**{argument: obj}, user=request.user)
    except PortalError as error:
        messages.error(request, error.detail)
        return redirect(f"{kind.url_prefix}-detail", pk)
    return redirect("core:job-detail", job.pk)


@login_required
@require_POST
def host_refresh(request, pk: int):
    return _start_job(request, HOSTS, pk, services.host_refresh, "host")


@login_required
@require_POST
def host_activate(request, pk: int):
    return _start_job(request, HOSTS, pk, services.host_activate, "host")


@login_required
@require_POST
def storage_attach(request, pk: int):
    return _start_job(request, STORAGE_DOMAINS, pk, services.storage_domain_attach, "domain")


@login_required
@require_POST
def storage_detach(request, pk: int):
    return _start_job(request, STORAGE_DOMAINS, pk, services.storage_domain_detach, "domain")


@login_required
@require_POST
def network_attach(request, pk: int):
    return _start_job(request, NETWORKS, pk, services.network_attach, "network")


@login_required
@require_POST
def network_detach(request, pk: int):
    return _start_job(request, NETWORKS, pk, services.network_detach, "network")


@login_required
@require_POST
def host_power_test(request, pk: int):
    """Bounded by a short timeout, so it answers in the request (oVirt's Test)."""
    host = get_object_or_404(selectors.hosts_visible_to(request.user), pk=pk)
    try:
        require_permission(request.user, "change", host)
        status = host_power_test_service(host=host, user=request.user, timeout=5)
    except PortalError as error:
        messages.error(request, f"Power management test failed: {error.detail}")
    else:
        messages.success(request, f"The BMC answers: power is {status}.")
    return redirect("inventory:host-detail", pk)


@login_required
@require_POST
def host_confirm_rebooted(request, pk: int):
    """oVirt's "Confirm 'Host has been rebooted'", for a lost host without working power management."""
    host = get_object_or_404(selectors.hosts_visible_to(request.user), pk=pk)
    try:
        require_permission(request.user, "change", host)
        host_confirm_rebooted_service(host=host, user=request.user)
    except PortalError as error:
        messages.error(request, error.detail)
    else:
        messages.warning(request, f"Host {host.name} confirmed rebooted: its VMs are down, the highly available "
                                  "ones start elsewhere.")
    return redirect("inventory:host-detail", pk)


@csrf_exempt  # checked below, once the upload handlers are set: the check reads the body
@login_required
def image_upload(request):
    """The upload page. upload.js posts the form to the API with a progress bar;
    without JavaScript the plain POST lands here and goes through the same service."""
    if request.method == "POST":
        request.upload_handlers = upload_handlers_for(request)
        try:
            request.POST  # reads the body now: a file past the size limit stops here, not in a 500
        except PortalError as error:
            messages.error(request, error.detail)
            return redirect(request.get_full_path())
    return _image_upload(request)


@csrf_protect
def _image_upload(request):
    domains = selectors.storage_domains_visible_to(request.user).filter(
        domain_type__in=forms.IMAGE_DOMAIN_TYPES).order_by("name")
    wanted = request.GET.get("storage_domain", "")
    initial = {"storage_domain": int(wanted)} if wanted.isdigit() and len(wanted) < 19 else {}
    form = forms.ImageUploadForm(request.POST or None, request.FILES or None, domains=domains, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            require_permission(request.user, "create")
            image = image_upload_service(storage_domain=data["storage_domain"], name=data["name"],
                                         content=data["content"], uploaded_path=uploaded_file_path(data["file"]),
                                         user=request.user)
        except PortalError as error:
            form.add_error(None, error.detail)
        else:
            messages.success(request, f"Image {image.name} was uploaded ({image.format}).")
            if initial:
                return redirect("inventory:storagedomain-detail", image.storage_domain_id)
            return redirect("inventory:image-list")
    return render(request, "inventory/image_upload.html", {"form": form, "from_domain": bool(initial)})


@login_required
def image_remove(request, pk: int):
    """Asks first; removes the image and its file on POST."""
    image = get_object_or_404(selectors.images_visible_to(request.user), pk=pk)
    list_url = reverse("inventory:image-list")
    if request.method == "POST":
        try:
            require_permission(request.user, "delete", image)
            image_remove_service(image=image, user=request.user)
        except PortalError as error:
            messages.error(request, error.detail)
        else:
            messages.success(request, f"Image {image.name} was removed.")
        return redirect(list_url)
    return object_remove_page(request, label="image", obj=image, cancel_url=list_url)
