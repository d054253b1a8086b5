"""The template pages: the list, a template's page, and making one from a VM
that is down (the VM page's "Make template" link leads there, shown when
``make_template_allowed`` says so). Each calls vms/services/templates.py,
which holds the rules and who may do what."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render

from core.errors import PermissionDenied, PortalError
from vms import selectors
from vms.forms import TemplateForm
from vms.models import Vm
from vms.services.sealing import SEAL_OPERATIONS
from vms.services.templates import (
    TEMPLATE_FROM, template_create_from_vm, template_may_create, templates_visible_to,
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
    template = get_object_or_404(visible.select_related("created_from_vm", "created_by"), pk=pk)
    base = template.base_template or template
    versions = visible.filter(pk=base.pk) | visible.filter(base_template=base)
    return render(request, "vms/template_detail.html", {
        "template": template,
        "disks": template.disks.select_related("storage_domain"),
        "versions": versions.order_by("version_number"),
        "seal_operations": SEAL_OPERATIONS,
    })


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
