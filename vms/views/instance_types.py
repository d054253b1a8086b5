"""Instance types (hardware presets): everyone sees them in the wizard; those
allowed to create, change and delete edit them here. Through the same generic
object services as the API, so an edit leaves the same event."""

from __future__ import annotations

from types import SimpleNamespace

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from core.errors import PortalError
from core.permissions import has_permission, require_permission
from inventory.services.objects import object_create, object_remove, object_update
from vms import selectors
from vms.models import InstanceType

# What inventory's object_form.html and object_remove.html need to know.
KIND = SimpleNamespace(label="instance type", plural="Instance types", url_prefix="vms:instancetype")


class InstanceTypeForm(forms.ModelForm):
    class Meta:
        model = InstanceType
        fields = ["name", "description", "memory_mb", "cpu_sockets", "cpu_cores", "cpu_threads"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}
        labels = {"memory_mb": "Memory (MiB)", "cpu_sockets": "Sockets", "cpu_cores": "Cores per socket",
                  "cpu_threads": "Threads per core"}


@login_required
def instancetype_list(request):
    user = request.user
    return render(request, "vms/instancetype_list.html", {
        "instance_types": selectors.instance_types(),
        "may_create": has_permission(user, "create"),
        "may_change": has_permission(user, "change"),
        "may_delete": has_permission(user, "delete"),
    })


@login_required
def instancetype_create(request):
    form = InstanceTypeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            require_permission(request.user, "create")
            preset = object_create(model=InstanceType, fields=form.cleaned_data, user=request.user)
        except PortalError as error:
            form.add_error(None, error.detail)
        else:
            messages.success(request, f"Instance type {preset} was created.")
            return redirect("vms:instancetype-list")
    return render(request, "inventory/object_form.html", {"kind": KIND, "form": form})


@login_required
def instancetype_edit(request, pk: int):
    preset = get_object_or_404(selectors.instance_types(), pk=pk)
    form = InstanceTypeForm(request.POST or None, instance=InstanceType.objects.get(pk=pk))
    if request.method == "POST" and form.is_valid():
        try:
            require_permission(request.user, "change", preset)
            object_update(obj=preset, fields=form.cleaned_data, user=request.user)
        except PortalError as error:
            form.add_error(None, error.detail)
        else:
            messages.success(request, f"Instance type {preset} was saved; VMs keep their own figures.")
            return redirect("vms:instancetype-list")
    return render(request, "inventory/object_form.html", {"kind": KIND, "form": form, "object": preset})


@login_required
def instancetype_remove(request, pk: int):
    preset = get_object_or_404(selectors.instance_types(), pk=pk)
    if request.method == "POST":
        try:
            require_permission(request.user, "delete", preset)
            object_remove(obj=preset, user=request.user)
        except PortalError as error:
            messages.error(request, error.detail)
        else:
            messages.success(request, f"Instance type {preset} was removed; VMs made from it become custom.")
        return redirect("vms:instancetype-list")
    return render(request, "inventory/object_remove.html", {
        "kind": KIND, "object": preset, "cancel_url": reverse("vms:instancetype-list"),
    })
