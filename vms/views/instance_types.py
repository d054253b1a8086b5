"""Instance types (hardware presets): everyone sees them in the wizard; those
allowed to create, change and delete edit them here. Through the same generic
object services as the API (core/objects.py), so an edit leaves the same event."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from core.crud import Kind
from core.permissions import has_permission
from vms import selectors
from vms.models import InstanceType


class InstanceTypeForm(forms.ModelForm):
    class Meta:
        model = InstanceType
        fields = ["name", "description", "memory_mb", "cpu_sockets", "cpu_cores", "cpu_threads"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}
        labels = {"memory_mb": "Memory (MiB)", "cpu_sockets": "Sockets", "cpu_cores": "Cores per socket",
                  "cpu_threads": "Threads per core"}


# The create, edit and remove pages are core's generic ones (core/crud.py, mounted
# in vms/urls.py); a preset has no page of its own, its edit page stands in.
INSTANCE_TYPES = Kind("instance-types", "instance type", "Instance types", "vms:instancetype", InstanceTypeForm,
                      lambda user: selectors.instance_types(), has_detail=False,
                      saved_note="; VMs keep their own figures", removed_note="; VMs made from it become custom")


@login_required
def instancetype_list(request):
    user = request.user
    return render(request, "vms/instancetype_list.html", {
        "instance_types": selectors.instance_types(),
        "may_create": has_permission(user, "create"),
        "may_change": has_permission(user, "change"),
        "may_delete": has_permission(user, "delete"),
    })
