"""The new-VM wizard: five server-rendered steps, one form (or two formsets)
per step, swapped in place by htmx and working as plain POSTs without it.

No state is kept on the server: each step posts every answer so far (the
other steps' fields ride along as hidden inputs), so two tabs never mix their
VMs and Back never loses anything. Going forward re-checks the steps passed
with ``vm_request_clean`` — the very check ``vm_create`` makes — and its
refusals, keyed by field, are shown under that field on its step. Create
calls ``vm_create``; nothing exists before every check passes."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.forms.utils import ErrorDict
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from core.errors import PortalError
from core.permissions import restrict
from inventory.choices import NetworkStatus, StorageDomainStatus
from inventory.models import Cluster, Host
from vms.choices import ConsoleType, DiskAllocation, Optimization, TemplateStatus
from vms.forms import (
    BLANK_TEMPLATE,
    BasicsForm,
    DiskFormSet,
    FinishForm,
    InitializationForm,
    NicFormSet,
    ProfileForm,
    SizingForm,
    data_domains_of,
    disk_images_of,
    os_choices,
    os_search,
    template_choice,
    vm_networks_of,
)
from vms.models import OperatingSystem, Template, vcpu_count
from vms.policy import PROFILE_EFFECTS
from vms.selectors import instance_types, operating_systems
from vms.services.from_template import template_latest
from vms.services.initialization import InitializationRequest, timezones
from vms.services.lifecycle import vm_create
from vms.services.placement import cluster_largest_host, placement_preview
from vms.services.requests import DiskRequest, NicRequest, VmRequest, vm_request_clean
from vms.services.templates import templates_visible_to


@dataclass(frozen=True)
class Step:
    number: int
    title: str
    prefixes: tuple[str, ...]  # the form prefixes of the step's fields


STEPS = (
    Step(1, "Name and operating system", ("basics",)),
    Step(2, "Memory and CPUs", ("sizing",)),
    Step(3, "Optimization", ("profile",)),
    Step(4, "Disks and network", ("disks", "nics")),
    Step(5, "Console and summary", ("finish", "init")),
)
LAST = len(STEPS)
# Where each field of a VmRequest is asked, so a refusal lands on its step.
FIELD_STEPS = {
    "name": 1, "description": 1, "cluster": 1, "os_type": 1, "template": 1, "provisioning": 1,
    "clone_allocation": 1,
    "instance_type": 2, "memory_mb": 2, "memory_guaranteed_mb": 2, "cpu_sockets": 2, "cpu_cores": 2,
    "cpu_threads": 2, "optimization": 3, "disks": 4, "nics": 4, "console": 5, "host": 5, "initialization": 5,
}
# Posted with every step but never carried along as an answer.
NOT_CARRIED = {"csrfmiddlewaretoken", "wizard-action", "wizard-step", "wizard-reached", "os_search"}
DEFAULT_OS = "linux-generic"
EXTRA_DISK_GB = 10
MAX_ROWS = 8


def clusters_for_new_vms(user) -> QuerySet[Cluster]:
    """Where ``user`` may create VMs: everywhere with a system-wide create, else the clusters granted."""
    return restrict(Cluster.objects.select_related("data_center"), user, "create").order_by("name", "pk")


def _first(queryset, **preferred):
    return queryset.filter(**preferred).first() or queryset.first()


class Wizard:
    """The answers posted so far, as forms, and what the service says of them."""

    def __init__(self, user, data: QueryDict | None = None):
        self.user = user
        self.data = data
        self.clusters = clusters_for_new_vms(user)
        # Refusals without a form field of their own (disks, nics, no host fits): step -> [(field, message)].
        self.step_errors: dict[int, list[tuple[str, str]]] = {}
        reached = data.get("wizard-reached", "1") if data is not None else "1"
        self.reached = min(int(reached), LAST) if reached.isdigit() and len(reached) < 3 else 1

    def bound(self, prefix: str) -> bool:
        return self.data is not None and any(key.startswith(f"{prefix}-") for key in self.data)

    def _data(self, prefix: str) -> tuple:
        return (self.data,) if self.bound(prefix) else ()

    # ---- the forms, each built from the answers it depends on ----

    @cached_property
    def basics(self) -> BasicsForm:
        os_type = OperatingSystem.objects.filter(short_id=DEFAULT_OS).values_list("short_id", flat=True).first()
        cluster = self.clusters.first()
        return BasicsForm(*self._data("basics"), prefix="basics", clusters=self.clusters,
                          operating_systems=operating_systems(), templates=self.templates, initial={
                              "cluster": cluster.pk if cluster else None, "os_type": os_type,
                              "template": BLANK_TEMPLATE})

    @cached_property
    def templates(self) -> QuerySet[Template]:
        """The ready templates of the data centers the user may create VMs in."""
        return templates_visible_to(self.user).filter(
            status=TemplateStatus.OK, data_center__in=self.clusters.values("data_center")).order_by(
            "name", "version_number")

    @cached_property
    def template_answer(self) -> tuple[Template | None, bool]:
        """The template chosen on step 1 (None: blank) and whether "latest" was."""
        pk, latest = template_choice(str(self.basics["template"].value() or ""))
        template = self.templates.filter(pk=pk).first() if pk is not None else None
        return template, latest

    @cached_property
    def template(self) -> Template | None:
        """The version the answers make the VM from (latest: the newest now), whose hardware fills the steps."""
        template, latest = self.template_answer
        if template is not None and latest:
            return template_latest(template) or template
        return template

    def _answer(self, form, name: str, lookup):
        """A field's value: cleaned when the form passes, else what was posted, else its initial."""
        if form.is_bound and form.is_valid():
            return form.cleaned_data.get(name)
        raw = form[name].value()
        return lookup(raw) if raw not in (None, "") else None

    @cached_property
    def cluster(self) -> Cluster | None:
        def lookup(raw):
            return self.clusters.filter(pk=raw).first() if str(raw).isdigit() else None
        return self._answer(self.basics, "cluster", lookup) or self.clusters.first()

    @cached_property
    def os_type(self) -> OperatingSystem | None:
        def lookup(raw):
            return OperatingSystem.objects.filter(short_id=raw).first()
        return self._answer(self.basics, "os_type", lookup)

    @cached_property
    def sizing(self) -> SizingForm:
        return SizingForm(*self._data("sizing"), prefix="sizing", initial=self._sizing_initial())

    def _sizing_initial(self) -> dict:
        """The template's figures; else the smallest preset that gives the OS
        what it recommends, else the recommendation itself."""
        if self.template is not None:
            return {"instance_type": None, **{name: getattr(self.template, name) for name in (
                "memory_mb", "memory_guaranteed_mb", "cpu_sockets", "cpu_cores", "cpu_threads")}}
        os_type = self.os_type
        memory = os_type.recommended_memory_mb if os_type else 1024
        vcpus = os_type.recommended_vcpus if os_type else 1
        for preset in instance_types():
            if preset.memory_mb >= memory and preset.vcpus >= vcpus:
                return {"instance_type": preset.pk, "memory_mb": preset.memory_mb, "cpu_sockets": preset.cpu_sockets,
                        "cpu_cores": preset.cpu_cores, "cpu_threads": preset.cpu_threads}
        return {"memory_mb": memory, "cpu_sockets": vcpus, "cpu_cores": 1, "cpu_threads": 1}

    @cached_property
    def profile(self) -> ProfileForm:
        initial = {"optimization": self.template.optimization} if self.template is not None else None
        return ProfileForm(*self._data("profile"), prefix="profile", initial=initial)

    @property
    def optimization(self) -> str:
        value = self.profile["optimization"].value()
        return value if value in Optimization.values() else Optimization.SERVER

    @cached_property
    def domains(self):
        return data_domains_of(self.cluster) if self.cluster else data_domains_of(Cluster(data_center_id=0))

    @cached_property
    def disks(self) -> DiskFormSet:
        images = disk_images_of(self.cluster) if self.cluster else self.domains.none()
        initial = None
        if not self.bound("disks"):
            size = (self.os_type.recommended_disk_gb if self.os_type else 0) or EXTRA_DISK_GB
            # From a template, its disks come first (shown above the rows): extra ones only.
            initial = [] if self.template is not None else [self._new_disk(size)]
        return DiskFormSet(*self._data("disks"), prefix="disks", initial=initial,
                           form_kwargs={"domains": self.domains, "images": images})

    def _new_disk(self, size_gb: int) -> dict:
        domain = _first(self.domains, status=StorageDomainStatus.ACTIVE)
        return {"size_gb": size_gb, "allocation": DiskAllocation.THIN, "storage_domain": domain.pk if domain else None}

    @cached_property
    def networks(self):
        return vm_networks_of(self.cluster) if self.cluster else vm_networks_of(Cluster(data_center_id=0))

    @cached_property
    def nics(self) -> NicFormSet:
        initial = None
        if not self.bound("nics"):
            network = _first(self.networks, status=NetworkStatus.ACTIVE)
            models = self.template.nic_models if self.template is not None else [""]
            initial = [{"network": network.pk, "model": model} for model in models] if network else []
        return NicFormSet(*self._data("nics"), prefix="nics", initial=initial,
                          form_kwargs={"networks": self.networks, "os_type": self.os_type})

    @cached_property
    def hosts(self):
        return Host.objects.filter(cluster=self.cluster).order_by("name", "pk") if self.cluster else Host.objects.none()

    @cached_property
    def finish(self) -> FinishForm:
        headless = self.optimization == Optimization.HIGH_PERFORMANCE
        console = self.template.console if self.template is not None else ConsoleType.VNC
        return FinishForm(*self._data("finish"), prefix="finish", hosts=self.hosts, initial={
            "console": ConsoleType.NONE if headless else console, "host": None, "start": True})

    @cached_property
    def init(self) -> InitializationForm:
        # Bound with step 5: a browser posts nothing for an unticked box and may
        # leave the section's empty fields out, and nothing is a valid answer.
        return InitializationForm(*(self._data("init") or self._data("finish")), prefix="init")

    def initialization(self) -> InitializationRequest | None:
        """The First boot section's answers, when personalising is ticked."""
        answers = self.init.cleaned_data if self.init.is_bound and self.init.is_valid() else {}
        if not answers.get("personalise"):
            return None
        return InitializationRequest(**{name: answers[name] for name in (
            "hostname", "user_name", "password", "ssh_authorized_keys", "timezone", "custom_script")})

    def forms_of(self, number: int) -> list:
        return {1: [self.basics], 2: [self.sizing], 3: [self.profile], 4: [self.disks, self.nics],
                5: [self.finish, self.init]}[number]

    # ---- checking ----

    def first_invalid(self, upto: int) -> int | None:
        """The first step up to ``upto`` whose form refuses its answers (or was never answered)."""
        for number in range(1, upto + 1):
            if not all(form.is_bound and form.is_valid() for form in self.forms_of(number)):
                return number
        return None

    def vm_request(self, upto: int) -> VmRequest:
        """What the steps up to ``upto`` ask for; later steps keep the service's defaults."""
        basics = self.basics.cleaned_data
        template, latest = self.template_answer
        fields = {"name": basics["name"], "description": basics["description"], "cluster": basics["cluster"],
                  "os_type": basics["os_type"], "template": template, "template_latest": latest,
                  "provisioning": basics["provisioning"] or None,
                  "clone_allocation": basics["clone_allocation"] or DiskAllocation.THIN}
        if upto >= 2:
            sizing = self.sizing.cleaned_data
            fields.update({name: sizing[name] for name in (
                "instance_type", "memory_mb", "memory_guaranteed_mb", "cpu_sockets", "cpu_cores", "cpu_threads")})
        if upto >= 3:
            fields["optimization"] = self.profile.cleaned_data["optimization"]
        if upto >= 4:
            fields["disks"] = tuple(
                DiskRequest(storage_domain=form.cleaned_data["storage_domain"], size_gb=form.cleaned_data["size_gb"],
                            format=form.format, allocation=form.cleaned_data["allocation"],
                            image=form.cleaned_data["image"])
                for form in self.disks.forms
            )
            fields["nics"] = tuple(
                NicRequest(network=form.cleaned_data["network"], model=form.cleaned_data["model"],
                           mac=form.cleaned_data["mac"].strip())
                for form in self.nics.forms
            )
        if upto >= 5:
            finish = self.finish.cleaned_data if self.finish.is_bound else self.finish.initial
            fields.update({"console": finish["console"], "host": finish["host"], "start": finish["start"],
                           "initialization": self.initialization()})
        return VmRequest(**fields)

    def check(self, upto: int) -> int | None:
        """vm_request_clean on the steps up to ``upto``; returns the first step it refuses."""
        try:
            vm_request_clean(self.vm_request(upto))
        except ValidationError as error:
            return self.place_errors(error, upto)
        return None

    def place_errors(self, error: ValidationError, upto: int = LAST) -> int | None:
        """Each refusal under its field on its step (steps after ``upto`` are not asked yet)."""
        by_field = error.message_dict if hasattr(error, "error_dict") else {"__all__": error.messages}
        first = None
        for field, field_messages in by_field.items():
            number = FIELD_STEPS.get(field, upto)
            if number > upto:
                continue
            first = number if first is None else min(first, number)
            form = next((f for f in self.forms_of(number) if field in getattr(f, "fields", {})), None)
            for message in field_messages:
                if form is not None:
                    form.add_error(field, message)
                else:
                    self.step_errors.setdefault(number, []).append((field, message))
        return first

    def carried(self, number: int) -> list[tuple[str, str]]:
        """Every answer of the other steps, as hidden inputs of this one."""
        if self.data is None:
            return []
        prefixes = tuple(f"{prefix}-" for prefix in STEPS[number - 1].prefixes)
        return [(key, value) for key in self.data if key not in NOT_CARRIED and not key.startswith(prefixes)
                for value in self.data.getlist(key)]


# ---- step 4's rows: added and removed by re-posting the answers ----

ROW_FIELDS = {"disks": ("size_gb", "allocation", "storage_domain", "image"), "nics": ("network", "model", "mac")}


def _rows_total(data: QueryDict, prefix: str) -> int:
    value = data.get(f"{prefix}-TOTAL_FORMS", "0")
    return min(int(value), MAX_ROWS) if value.isdigit() and len(value) < 3 else 0


def _row_add(wizard: Wizard, data: QueryDict, prefix: str) -> None:
    total = _rows_total(data, prefix)
    if total >= MAX_ROWS:
        return
    if prefix == "disks":
        row = wizard._new_disk(EXTRA_DISK_GB)
    else:
        network = _first(wizard.networks, status=NetworkStatus.ACTIVE)
        row = {"network": network.pk if network else ""}
    for name in ROW_FIELDS[prefix]:
        value = row.get(name)
        data[f"{prefix}-{total}-{name}"] = "" if value is None else str(value)
    data[f"{prefix}-TOTAL_FORMS"] = str(total + 1)
    data.setdefault(f"{prefix}-INITIAL_FORMS", "0")


def _row_remove(data: QueryDict, prefix: str, index: int) -> None:
    total = _rows_total(data, prefix)
    if not 0 <= index < total:
        return
    for row in range(index, total):
        for name in ROW_FIELDS[prefix]:
            following = data.getlist(f"{prefix}-{row + 1}-{name}") if row + 1 < total else []
            data.setlist(f"{prefix}-{row}-{name}", following)
            if not following:
                data.pop(f"{prefix}-{row}-{name}", None)
    data[f"{prefix}-TOTAL_FORMS"] = str(total - 1)
    data[f"{prefix}-INITIAL_FORMS"] = "0"


# ---- the summary: where the VM would go, and what it does to the cluster ----

def wizard_summary(wizard: Wizard, user) -> dict:
    """The placement service's preview of the answers so far, for the template; never raises."""
    # Step 5 itself may not be submitted yet: its first choices count then.
    if wizard.first_invalid(LAST - 1) is not None or (wizard.finish.is_bound and not wizard.finish.is_valid()):
        return {"incomplete": True}
    try:
        preview = placement_preview(request=wizard.vm_request(LAST), user=user)
    except ValidationError as error:
        by_field = error.message_dict if hasattr(error, "error_dict") else {"": error.messages}
        return {"problems": [message for messages_ in by_field.values() for message in messages_]}
    given_macs = {form.cleaned_data["mac"].strip().lower() for form in wizard.nics.forms}
    return {
        "request": preview.request, "vcpus": preview.vcpus, "placement": preview.placement,
        "placement_rows": preview.placement_rows, "commitment": preview.commitment,
        "nics": [(nic, not nic.mac or nic.mac not in given_macs) for nic in preview.request.nics],
    }


# ---- the views ----

def _vcpu_total(form: SizingForm) -> int | None:
    """The vCPUs the sizing step's figures give, as typed (None until they are numbers)."""
    try:
        return vcpu_count(*(int(form[name].value()) for name in ("cpu_sockets", "cpu_cores", "cpu_threads")))
    except (TypeError, ValueError):
        return None


def _render(request, wizard: Wizard, number: int):
    step = STEPS[number - 1]
    wizard.reached = max(wizard.reached, number)
    loose = wizard.step_errors.get(number, [])
    context = {
        "wizard": wizard, "steps": STEPS, "step": step, "number": number, "last": LAST,
        "carried": wizard.carried(number), "no_clusters": not wizard.clusters.exists(),
        "step_errors": [message for field, message in loose if field not in (*ROW_FIELDS, "initialization")],
        "disk_errors": [message for field, message in loose if field == "disks"],
        "nic_errors": [message for field, message in loose if field == "nics"],
        "init_errors": [message for field, message in loose if field == "initialization"],
    }
    if number == 1:
        context["no_os"] = not OperatingSystem.objects.exists()
    elif number == 2:
        context["largest_host"] = cluster_largest_host(wizard.cluster)
        context["vcpu_total"] = _vcpu_total(wizard.sizing)
    elif number == 3:
        current = wizard.optimization
        context["profiles"] = [
            {"value": value, "label": label, "effects": PROFILE_EFFECTS.get(value, ()), "checked": value == current,
             "id": f"id_profile-optimization_{index}"}
            for index, (value, label) in enumerate(Optimization.choices())
        ]
    elif number == 4:
        context["template_disks"] = wizard.template.disks.select_related("storage_domain") if wizard.template else ()
    elif number == 5:
        context["headless"] = wizard.optimization == Optimization.HIGH_PERFORMANCE
        context["headless_disabled"] = [ConsoleType.VNC, ConsoleType.SPICE]
        context["summary"] = wizard_summary(wizard, request.user)
        context["timezones"] = sorted(timezones())
    return render(request, "vms/wizard.html", context)


def _action(data: QueryDict) -> tuple[str, str]:
    """The button pressed: next, back, goto:<step>, create, add:<disks|nics>, remove:<disks|nics>:<row>."""
    name, _, argument = data.get("wizard-action", "next").partition(":")
    return name, argument


def _number(raw: str, default: int) -> int:
    return int(raw) if raw.isdigit() and len(raw) < 3 else default


@login_required
def vm_wizard(request):
    if request.method != "POST":
        return _render(request, Wizard(request.user), 1)
    data = request.POST.copy()
    wizard = Wizard(request.user, data)
    if wizard.template is not None and data.get("basics-os_type") != wizard.template.os_type.short_id:
        data["basics-os_type"] = wizard.template.os_type.short_id  # the template's disks hold its OS
        wizard = Wizard(request.user, data)
    current = min(max(_number(data.get("wizard-step", "1"), 1), 1), LAST)
    action, argument = _action(data)

    if action in ("add", "remove"):
        prefix, _, row = argument.partition(":")
        if prefix in ROW_FIELDS:
            if action == "add":
                _row_add(wizard, data, prefix)
            else:
                _row_remove(data, prefix, _number(row, -1))
        return _render(request, _quiet(Wizard(request.user, data), 4), 4)
    if action == "create":
        return _create(request, wizard)
    if action == "back":
        return _render(request, wizard, max(current - 1, 1))
    target = current + 1 if action == "next" else _number(argument, current)
    # Forward only as far as the steps answered so far, one new step at a time.
    target = min(max(target, 1), LAST, max(wizard.reached, current + 1))
    if target <= current:
        return _render(request, wizard, target)
    if wizard.optimization == Optimization.HIGH_PERFORMANCE and wizard.bound("finish"):
        data["finish-console"] = ConsoleType.NONE  # headless is the only console such a VM has
        wizard = Wizard(request.user, data)
    stop = wizard.first_invalid(target - 1) or wizard.check(target - 1)
    return _render(request, wizard, stop or target)


def _quiet(wizard: Wizard, number: int) -> Wizard:
    """Rows just added or removed are shown without errors: nothing was submitted yet."""
    for form in wizard.forms_of(number):
        if hasattr(form, "forms"):  # a formset
            for row in form.forms:
                row._errors = ErrorDict()
            form._errors = [row._errors for row in form.forms]
            form._non_form_errors = form.error_class()
        else:
            form._errors = ErrorDict()
    return wizard


def _create(request, wizard: Wizard):
    first = wizard.first_invalid(LAST)
    if first is not None:
        return _render(request, wizard, first)
    try:
        vm, job = vm_create(request=wizard.vm_request(LAST), user=request.user)
    except ValidationError as error:
        return _render(request, wizard, wizard.place_errors(error) or LAST)
    except PortalError as error:
        wizard.step_errors.setdefault(LAST, []).append(("__all__", error.detail))
        return _render(request, wizard, LAST)
    messages.success(request, f"VM {vm.name} is being created on {vm.host.name if vm.host else 'its host'} "
                              f"(job #{job.pk}); its progress shows below.")
    url = reverse("vms:vm-detail", args=[vm.pk])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@login_required
@require_POST
def vm_wizard_summary(request):
    """Step 5's summary again, for the answers as they are now (htmx, on every change)."""
    wizard = Wizard(request.user, request.POST.copy())
    return render(request, "vms/includes/wizard_summary.html", {
        "wizard": wizard, "summary": wizard_summary(wizard, request.user)})


@login_required
@require_GET
def vm_wizard_os_options(request):
    """Step 1's OS select, narrowed to what the search box says (htmx); the
    current choice stays selected when it still matches, else the first match."""
    found = list(os_search(operating_systems(), request.GET.get("os_search", "").strip()).order_by("family", "name"))
    current = request.GET.get("basics-os_type", "")
    if found and current not in {os_type.short_id for os_type in found}:
        current = found[0].short_id
    return render(request, "vms/includes/os_options.html", {"groups": os_choices(found), "current": current})
