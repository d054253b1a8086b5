"""The template pages: the list, a template's page, and making one from a VM
that is down (the VM page's "Make template" link leads there, shown when
``make_template_allowed`` says so) or from an uploaded disk image (the images'
"Make template" links and the list's "From image" lead there). Each calls
vms/services/templates.py, which holds the rules and who may do what."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from core.errors import PermissionDenied, PortalError
from inventory.selectors import images_visible_to
from vms import selectors
from vms.forms import TemplateForm, TemplateFromImageForm
from vms.models import Vm
from vms.services.sealing import SEAL_OPERATIONS
from vms.services.from_template import vms_made_from
from vms.services.templates import (
    TEMPLATE_FROM, template_create_from_image, template_create_from_vm, template_delete, template_may_create,
    template_may_create_from_image, template_may_delete, template_thin_users_refusal, templates_visible_to,
)


def make_template_allowed(user, vm: Vm) -> bool:
    """Whether the VM page offers "Make template" to this user now."""
    return vm.status in TEMPLATE_FROM and template_may_create(user, vm)


@login_required
def template_list(request):
    templates = templates_visible_to(request.user).prefetch_related("disks")
    return render(request, "vms/template_list.html", {"templates": templates})


@login_required
def template_detail(request, pk: int):
    visible = templates_visible_to(request.user)
    template = get_object_or_404(
        visible.select_related("created_from_vm", "created_from_image__storage_domain", "created_by"), pk=pk)
    base = template.base_template or template
    versions = visible.filter(pk=base.pk) | visible.filter(base_template=base)
    refusal = template_thin_users_refusal(template)
    return render(request, "vms/template_detail.html", {
        "template": template,
        "disks": template.disks.select_related("storage_domain"),
        "versions": versions.order_by("version_number"),
        "seal_operations": SEAL_OPERATIONS,
        "vms": selectors.vms_visible_to(request.user).filter(pk__in=vms_made_from(template).values("pk")),
        "may_delete": template_may_delete(request.user, template),
        "delete_refusal": refusal.detail if refusal else "",
        "seal_operations": SEAL_OPERATIONS,
    })


@login_required
@require_POST
def template_delete_page(request, pk: int):
    """The template page's Delete button: the same service and refusals as ``DELETE templates/<id>/``."""
    template = get_object_or_404(templates_visible_to(request.user), pk=pk)
    try:
        if not template_may_delete(request.user, template):
            raise PermissionDenied(f"You may not delete template {template.name}.")
        job = template_delete(template=template, user=request.user)
    except PortalError as error:
        messages.error(request, error.detail)
        return redirect("templates:template-detail", template.pk)
    messages.info(request, f"{job.title}: job #{job.pk} started.")
    return redirect("templates:template-list")


@login_required
def vm_make_template(request, pk: int):
    vm = get_object_or_404(selectors.vms_visible_to(request.user), pk=pk)
    form = TemplateForm(request.POST or None, vm=vm)
    if request.method == "POST" and form.is_valid():
        try:
            if not template_may_create(request.user, vm):
                raise PermissionDenied(f"You may not make a template of VM {vm.name}.")
            template, job = template_create_from_vm(vm=vm, user=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        except PortalError as error:
            form.add_error(None, error.detail)
        else:
            messages.info(request, f"{job.title}: job #{job.pk} started; the template is locked until its "
                                   "disks are copied.")
            return redirect("templates:template-detail", template.pk)
    return render(request, "vms/template_make.html", {
        "vm": vm, "form": form, "allowed": make_template_allowed(request.user, vm),
        "seal_operations": SEAL_OPERATIONS,
    })


@login_required
def template_from_image(request):
    """Make a template of an uploaded disk image (``?image=`` chooses it)."""
    images = images_visible_to(request.user)
    given = (request.POST or request.GET).get("image", "")
    chosen = images.filter(pk=given).first() if given.isdigit() else None
    # The image's own domain first: the copy then stays where the image is.
    form = TemplateFromImageForm(request.POST or None, initial={"image": chosen, "storage_domain": chosen and
                                                                chosen.storage_domain},
                                 data_center=chosen.storage_domain.data_center if chosen else None)
    form.fields["image"].queryset = form.fields["image"].queryset.filter(pk__in=images.values("pk"))
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        image = data.pop("image")
        try:
            if not template_may_create_from_image(request.user, image):
                raise PermissionDenied(f"You may not make a template of image {image.name}.")
            template, job = template_create_from_image(image=image, user=request.user, **data)
        except ValidationError as error:
            form.add_error(None, error)
        except PortalError as error:
            form.add_error(None, error.detail)
        else:
            messages.info(request, f"{job.title}: job #{job.pk} started; the template is locked until the image "
                                   "is converted.")
            return redirect("templates:template-detail", template.pk)
    return render(request, "vms/template_from_image.html", {"form": form, "image": chosen})
