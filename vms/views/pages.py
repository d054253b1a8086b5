"""The VM list, the VM page and its actions.

Pages only read the database (never libvirt, except the screenshot, which
asks the service for one small PNG); every action is a POST that calls one
lifecycle service and answers with a redirect: to the VM page, where the
job's bar moves by itself, or to the job when the VM is going away. A
refusal (409, bad input, no permission) becomes a message on the VM page."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.html import escape
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseStopPolling

from core.errors import Conflict, PermissionDenied, PortalError
from core.filters import filter_list
from core.models import JobStatus
from core.permissions import is_system_admin
from core.selectors import events_visible_to, jobs_visible_to
from inventory.models import Cluster, Host
from vms import selectors
from vms.choices import OsFamily, VmStatus
from vms.filters import VmFilterSet
from vms.forms import RunOnceForm
from vms.models import OperatingSystem, Vm, VmInitialization
from vms.services import lifecycle
from vms.permissions import vm_may, vm_require
from vms.services.screenshot import vm_screenshot_png, vm_shows_screen
from vms.services.edit import EDITABLE_DOWN, EDITABLE_RUNNING, next_run_changes
from vms.views.disks import disk_rows, disk_tools
from vms.views.jobs import refused, started
from vms.views.wizard import clusters_for_new_vms

PAGE_SIZE = 50
# What a row of the VM list shows, and only that: a VM row and its relations
# carry JSON (placement verdicts, NUMA cells) that decoding would make the
# page's biggest cost, 50 rows at a time.
VM_ROW_RELATED = ("cluster", "host", "os_type", "owner")
VM_ROW_FIELDS = ("name", "description", "status", "status_reason", "origin", "console", "run_once", "memory_mb",
                 "cpu_sockets", "cpu_cores", "cpu_threads", "cluster__name", "host__name", "os_type__name", "owner__username")
THUMBNAIL_WIDTH = 320
SCREEN_REFRESH_SECONDS = 5


def _visible_vm(request, pk: int) -> Vm:
    return get_object_or_404(selectors.vms_visible_to(request.user), pk=pk)


# ---- the list ---------------------------------------------------------------

@dataclass(frozen=True)
class ListFilter:
    param: str
    label: str
    options: list[tuple[str, str]]  # (value, label)

    def current(self, request) -> str:
        return request.GET.get(self.param, "")


def _filter_options(visible, sees_all: bool, model, value_field: str, label_field: str) -> list[tuple[str, str]]:
    """Options from the small table itself for whoever sees every VM (a DISTINCT
    over all VMs would scan them all); else the values the user's own VMs have."""
    if sees_all:
        rows = model.objects.all()
        if model is OperatingSystem:  # hundreds in the catalogue: offer those in use
            rows = rows.filter(pk__in=visible.values(value_field))
        rows = rows.order_by(label_field).values_list("pk", label_field)
    else:
        related = value_field.removesuffix("_id")
        rows = (visible.exclude(**{f"{value_field}__isnull": True}).order_by(f"{related}__{label_field}")
                .values_list(value_field, f"{related}__{label_field}").distinct())
    return [(str(value), text) for value, text in rows]


@login_required
def vm_list(request):
    visible = selectors.vms_visible_to(request.user)
    sees_all = is_system_admin(request.user)
    filters = [
        ListFilter("cluster", "Cluster", _filter_options(visible, sees_all, Cluster, "cluster_id", "name")),
        ListFilter("host", "Host", _filter_options(visible, sees_all, Host, "host_id", "name")),
        ListFilter("status", "Status", VmStatus.choices()),
        ListFilter("owner", "Owner", _filter_options(visible, sees_all, get_user_model(), "owner_id", "username")),
        ListFilter("os_type", "OS", _filter_options(visible, sees_all, OperatingSystem, "os_type_id", "name")),
    ]
    vms, listing = filter_list(request, VmFilterSet, visible)
    rows = vms.select_related(None).select_related(*VM_ROW_RELATED).only(*VM_ROW_FIELDS)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "vms/vm_list.html", {
        "page": page, "vms": page.object_list, "filters": [(f, f.current(request)) for f in filters],
        "filtered": any(request.GET.get(f.param) for f in filters) or bool(request.GET.get("q")),
        "page_query": query.urlencode(), "may_create": clusters_for_new_vms(request.user).exists(), **listing,
    })


# ---- the VM page ------------------------------------------------------------

@dataclass(frozen=True)
class Action:
    """A button of the VM page. Who may press it is vms.permissions' rule for
    the action of that name (the API asks the same); where it shows, the
    statuses its service accepts (the service's own constant)."""

    name: str  # a key of vms.permissions.VM_ACTIONS
    label: str
    service: Callable
    allowed: tuple[str, ...]
    style: str = "secondary"
    done: str = "vm"  # where to go after: the VM page, or the job ("job")


ACTIONS = {action.name: action for action in (
    Action("start", "Start", lifecycle.vm_start, lifecycle.STARTABLE, style="primary"),
    Action("shutdown", "Shut down", lifecycle.vm_shutdown, lifecycle.SHUTDOWN_FROM),
    Action("reboot", "Reboot", lifecycle.vm_reboot, lifecycle.REBOOT_FROM),
    Action("suspend", "Suspend", lifecycle.vm_suspend, lifecycle.SUSPEND_FROM),
    Action("resume", "Resume", lifecycle.vm_resume, lifecycle.RESUME_FROM, style="primary"),
    Action("poweroff", "Power off", lifecycle.vm_poweroff, lifecycle.STOPPABLE, style="danger"),
    Action("delete", "Delete", lifecycle.vm_delete, lifecycle.DELETABLE, style="danger", done="job"),
)}


def _content_type():
    return ContentType.objects.get_for_model(Vm)


def _placement_rows(vm: Vm) -> list[dict]:
    placement = vm.placement or {}
    chosen = placement.get("host")
    rows = []
    for reason in placement.get("reasons", []):
        rows.append({**reason, "chosen": reason.get("host") == chosen and reason.get("passed")})
    return rows


@login_required
def vm_detail(request, pk: int):
    vm = _visible_vm(request, pk)
    content_type = _content_type()
    actions = [action for action in ACTIONS.values()
               if vm.status in action.allowed and vm_may(request.user, action.name, vm)]
    return render(request, "vms/vm_detail.html", {
        "vm": vm,
        "disks": disk_rows(request, vm),
        "disk_tools": disk_tools(request, vm),
        "nics": vm.nics.select_related("network"),
        "events": events_visible_to(request.user).filter(target_type=content_type, target_id=str(vm.pk))[:20],
        "active_job": jobs_visible_to(request.user).filter(
            target_type=content_type, target_id=str(vm.pk), status__in=JobStatus.ACTIVE).order_by("-pk").first(),
        "actions": [a for a in actions if a.name != "delete"],
        "may_delete": any(a.name == "delete" for a in actions),
        "may_run_once": vm.status in lifecycle.STARTABLE and vm_may(request.user, "run_once", vm),
        "may_edit": vm.status in EDITABLE_DOWN + EDITABLE_RUNNING and vm_may(request.user, "edit", vm),
        "next_run": next_run_changes(vm),
        # A job holds the VM: say so rather than "no action fits".
        "disks_locked": vm.status == VmStatus.IMAGE_LOCKED,
        "placement_rows": _placement_rows(vm),
        "shows_screen": vm_shows_screen(vm),
        "may_see_screen": vm_may(request.user, "screenshot", vm),
        "screen_refresh": SCREEN_REFRESH_SECONDS,
        "windows": vm.os_type.family == OsFamily.WINDOWS,
        "first_boot": VmInitialization.objects.filter(vm=vm).first(),
    })


@login_required
@require_GET
def vm_screen(request, pk: int):
    """The thumbnail's card body, polled by htmx while the VM shows a screen;
    answers 286 (htmx: stop polling) with the last word once it does not."""
    vm = _visible_vm(request, pk)
    context = {"vm": vm, "shows_screen": vm_shows_screen(vm), "may_see_screen": vm_may(request.user, "screenshot", vm),
               "screen_refresh": SCREEN_REFRESH_SECONDS}
    response = render(request, "vms/includes/vm_screen.html", context)
    if not (context["shows_screen"] and context["may_see_screen"]):
        return HttpResponseStopPolling(response.content)
    return response


PLACEHOLDER_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="320" height="200" viewBox="0 0 320 200">'
    '<rect width="320" height="200" fill="#1f1f1f"/>'
    '<text x="160" y="105" fill="#c7c7c7" font-family="sans-serif" font-size="14" text-anchor="middle">{}</text>'
    "</svg>"
)
PLACEHOLDER_TEXTS = {PermissionDenied: "Only those who may use this VM see its screen",
                     Conflict: "No screen: the VM is not running"}


@login_required
@require_GET
def vm_screenshot(request, pk: int):
    """The guest's screen as a PNG about 320 pixels wide; a dark placeholder
    saying why (403 not for this user, 409 not running, 503 host unreachable) when there is none."""
    vm = _visible_vm(request, pk)
    try:
        png = vm_screenshot_png(vm=vm, user=request.user, max_width=THUMBNAIL_WIDTH)
    except PortalError as error:
        text = PLACEHOLDER_TEXTS.get(type(error), "The screen cannot be read now")
        response = HttpResponse(PLACEHOLDER_SVG.format(escape(text)), content_type="image/svg+xml",
                                status=error.status_code)
        response["X-Reason"] = error.detail.replace("\n", " ")[:300]
    else:
        response = HttpResponse(png, content_type="image/png")
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def vm_action(request, pk: int, action: str):
    """One button of the VM page: start the job, or say why not."""
    if action not in ACTIONS:
        raise Http404
    spec = ACTIONS[action]
    vm = _visible_vm(request, pk)
    try:
        vm_require(request.user, spec.name, vm)
        job = spec.service(vm=vm, user=request.user)
    except (PortalError, ValidationError) as error:
        refused(request, error)
        return redirect("vms:vm-detail", vm.pk)
    if spec.done == "job":
        messages.info(request, f"{job.title}: the job removes its definition and disks, then the VM.")
        return redirect("core:job-detail", job.pk)
    started(request, job)
    return redirect("vms:vm-detail", vm.pk)


@login_required
def vm_delete(request, pk: int):
    """Asks first; the POST (same URL as the action's) deletes."""
    if request.method == "POST":
        return vm_action(request, pk, "delete")
    vm = _visible_vm(request, pk)
    return render(request, "vms/vm_delete.html", {
        "vm": vm, "disks": vm.disks.select_related("storage_domain"),
        "deletable": vm.status in ACTIONS["delete"].allowed, "may_delete": vm_may(request.user, "delete", vm),
    })


@login_required
def vm_run_once(request, pk: int):
    vm = _visible_vm(request, pk)
    form = RunOnceForm(request.POST or None, vm=vm)
    if request.method == "POST":
        try:
            vm_require(request.user, "run_once", vm)
        except PermissionDenied as error:
            refused(request, error)
            return redirect("vms:vm-detail", vm.pk)
        if form.is_valid():
            try:
                job = lifecycle.vm_run_once(vm=vm, user=request.user, **form.service_arguments())
            except ValidationError as error:
                _form_errors(form, error)
            except PortalError as error:
                form.add_error(None, error.detail)
            else:
                messages.info(request, f"{job.title}: job #{job.pk} started; these options last until it stops.")
                return redirect("vms:vm-detail", vm.pk)
    return render(request, "vms/vm_run_once.html", {"vm": vm, "form": form,
                                                    "may_start": vm.status in lifecycle.STARTABLE})


def _form_errors(form, error: ValidationError) -> None:
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, field_messages in error.message_dict.items():
        for message in field_messages:
            form.add_error(field if field in form.fields else None, message)
