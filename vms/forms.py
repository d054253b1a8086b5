"""The VM pages' forms: one per wizard step, and Run Once.

They only parse what the browser sends; every rule about a VM (names, sizes
against the OS and the largest host, storage, MACs, the profile's console) is
``vm_request_clean``'s, so the wizard and the API refuse the same things with
the same words. Field names match the VmRequest's, which is how a refusal
keyed by field lands under the right input.

The step forms are also the one declaration of VM create's inputs: the API's
serializers are generated from them (vms.api.serializers, VM_API_OVERRIDES
says where the API differs), as RunOnceForm is Run Once's."""

from __future__ import annotations

import functools

from django import forms
from django.db.models import QuerySet
from django.utils.choices import CallableChoiceIterator

from inventory.choices import (ImageContent, ImageStatus, MigrationPolicy, NetworkStatus, StorageDomainStatus,
                               StorageDomainType)
from inventory.models import Cluster, Host, Image, Network, StorageDomain
from vms.choices import (DISK_ALLOCATION_CHOICES, BootDevice, ConsoleType, DiskAllocation, DiskFormat, NicModel, Optimization, OsFamily,
                         Provisioning)
from vms.models import InstanceType, OperatingSystem, Template, Vm, VmSnapshot
from vms.services.requests import DEVICES_MAX, MAC_INPUT_MAX, NAME_MAX
from vms.services.initialization import CUSTOM_SCRIPT_MAX, HOSTNAME_MAX, KEYS_TEXT_MAX, PASSWORD_MAX, USER_NAME_MAX
from vms.services.sealing import seal_by_default
from vms.services.snapshots import WITH_MEMORY

GIB = 1024**3
BLANK_TEMPLATE = "blank"
LATEST_PREFIX = "latest:"
# "": the VM's own console (its label names it, per VM).
RUN_ONCE_CONSOLES = [("", "As the VM's"),
                     *((value, ConsoleType.label(value)) for value in (ConsoleType.VNC, ConsoleType.SPICE))]


def _gib(value: int | None) -> str:
    return "?" if value is None else f"{value / GIB:.1f} GiB"


def os_choices(operating_systems) -> list[tuple[str, list[tuple[str, str]]]]:
    """The OS select's options grouped by family (Linux, Windows, Other)."""
    groups: dict[str, list[tuple[str, str]]] = {value: [] for value in OsFamily.values()}
    for os_type in operating_systems:
        label = os_type.name
        if os_type.eol_date is not None:
            label += " (end of life)"
        groups.setdefault(os_type.family, []).append((os_type.short_id, label))
    return [(OsFamily.label(family), options) for family, options in groups.items() if options]


def template_choices(templates) -> list[tuple[str, str]]:
    """Each ready template version by id, and "latest:<base id>" for each
    family with versions: the newest one when the VM is created."""
    choices, families = [], {}
    for template in templates:
        version = f"version {template.version_number}" + (f" ({template.version_name})" if template.version_name else "")
        choices.append((str(template.pk), f"{template.name}: {version}, {template.data_center.name}"))
        base = template.base_template or template
        families.setdefault(base.pk, [base.name, 0])[1] += 1
    latest = [(f"{LATEST_PREFIX}{pk}", f"{name}: the latest version") for pk, (name, count) in families.items()
              if count > 1]
    return latest + choices


def template_oses(templates) -> dict[str, str]:
    """The OS short id each template choice brings ("latest:" ones: their base's)."""
    oses, newest = {}, {}
    for template in templates:
        oses[str(template.pk)] = template.os_type_id
        base_pk = template.base_template_id or template.pk
        if base_pk not in newest or template.version_number > newest[base_pk][0]:
            newest[base_pk] = (template.version_number, template.os_type_id)
    oses.update({f"{LATEST_PREFIX}{pk}": os_type for pk, (_, os_type) in newest.items()})
    return oses


def template_choice(value: str) -> tuple[int | None, bool]:
    """The wizard's template answer as (template id or None for blank, latest)."""
    latest = value.startswith(LATEST_PREFIX)
    raw = value.removeprefix(LATEST_PREFIX)
    return (int(raw) if raw.isdigit() and len(raw) < 12 else None), latest


def os_search(queryset: QuerySet[OperatingSystem], query: str) -> QuerySet[OperatingSystem]:
    """Every word must appear in the name or the short id: "deb 11" finds Debian 11."""
    for word in query.split():
        queryset = queryset.filter(name__icontains=word) | queryset.filter(short_id__icontains=word)
    return queryset


class TemplateSelect(forms.Select):
    """Each template carries its OS's short id, so choosing one selects its OS (vm-wizard.js)."""

    os_of: dict[str, str] = {}

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        if str(value) in self.os_of:
            option["attrs"]["data-os"] = self.os_of[str(value)]
        return option


class BasicsForm(forms.Form):
    """Step 1: what the VM is."""

    name = forms.CharField(max_length=NAME_MAX, help_text="Unique in the cluster's data center.")
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    cluster = forms.ModelChoiceField(queryset=Cluster.objects.none(), empty_label=None,
                                     help_text="Its hosts run the VM; its data center holds the disks and networks.")
    template = forms.ChoiceField(
        choices=[(BLANK_TEMPLATE, "Blank")], initial=BLANK_TEMPLATE, label="From template",
        widget=TemplateSelect(attrs={"data-template-select": ""}),
        help_text="Blank: the VM starts empty (or from a disk image in step 4). A template brings its operating "
                  "system, hardware and disks; the next steps start from them. \"Latest\" takes the newest "
                  "version when the VM is created.")
    provisioning = forms.ChoiceField(
        choices=[("", "As the profile says (desktop: thin; server, high performance: clone)"),
                 *Provisioning.choices()],
        required=False, label="Disks from the template",
        help_text="Thin: an overlay on the template's disk, made at once; the template stays while the VM "
                  "exists. Clone: a full copy of its own.")
    clone_allocation = forms.ChoiceField(
        choices=DISK_ALLOCATION_CHOICES, initial=DiskAllocation.THIN, required=False, label="A clone's disks")
    # Chosen by short id (the API's id of an OS). The select's ~850 options are
    # read only when the step is shown, not each time its answers are checked.
    os_type = forms.ModelChoiceField(
        queryset=OperatingSystem.objects.none(), to_field_name="short_id", empty_label=None,
        label="Operating system", widget=forms.Select(attrs={"size": 8}),
        error_messages={"invalid_choice": "Choose an operating system from the list."},
        help_text="Sets the defaults the guest needs: disk bus, NIC model, video, clock.",
    )

    def __init__(self, *args, clusters: QuerySet[Cluster], operating_systems: QuerySet[OperatingSystem],
                 templates: QuerySet[Template] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        templates = list(templates.select_related("base_template", "data_center")) if templates is not None else []
        self.fields["template"].choices = [(BLANK_TEMPLATE, "Blank"), *template_choices(templates)]
        self.fields["template"].widget.os_of = template_oses(templates)
        self.fields["cluster"].queryset = clusters
        self.fields["cluster"].label_from_instance = lambda c: f"{c.name} ({c.data_center.name})"
        self.fields["os_type"].queryset = operating_systems
        self.fields["os_type"].widget.choices = CallableChoiceIterator(
            functools.cache(lambda: os_choices(operating_systems)))


class InstanceTypeSelect(forms.Select):
    """Each preset carries its figures, so choosing one fills the fields (vm-wizard.js)."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        preset = getattr(value, "instance", None)
        if preset is not None:
            option["attrs"].update({
                "data-memory-mb": preset.memory_mb, "data-cpu-sockets": preset.cpu_sockets,
                "data-cpu-cores": preset.cpu_cores, "data-cpu-threads": preset.cpu_threads,
            })
        return option


class SizingForm(forms.Form):
    """Step 2: an instance type, or custom figures."""

    instance_type = forms.ModelChoiceField(
        queryset=InstanceType.objects.all(), required=False, empty_label="Custom", widget=InstanceTypeSelect,
        help_text="A preset fills the fields below; changing one of them afterwards makes the VM custom.",
    )
    memory_mb = forms.IntegerField(label="Memory (MiB)", min_value=1)
    memory_guaranteed_mb = forms.IntegerField(
        label="Guaranteed memory (MiB)", min_value=0, required=False,
        help_text="Never taken back from the guest. Empty: the VM's memory divided by the cluster's overcommit "
                  "(all of it for a high performance VM).",
    )
    cpu_sockets = forms.IntegerField(label="Sockets", min_value=1, initial=1)
    cpu_cores = forms.IntegerField(label="Cores per socket", min_value=1, initial=1)
    cpu_threads = forms.IntegerField(label="Threads per core", min_value=1, initial=1)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["instance_type"].label_from_instance = (
            lambda t: f"{t.name}: {t.memory_mb} MiB, {t.vcpus} vCPU{'s' if t.vcpus != 1 else ''}"
        )
        for name in ("memory_mb", "memory_guaranteed_mb", "cpu_sockets", "cpu_cores", "cpu_threads"):
            self.fields[name].widget.attrs.update({"data-sizing": name, "inputmode": "numeric"})
        self.fields["instance_type"].widget.attrs["data-sizing"] = "instance_type"

    def clean(self):
        cleaned = super().clean()
        preset = cleaned.get("instance_type")
        figures = ("memory_mb", "cpu_sockets", "cpu_cores", "cpu_threads")
        # A preset with figures that differ from it is "custom": say so now, as vm_request_clean will decide.
        if preset is not None and any(cleaned.get(name) not in (None, getattr(preset, name)) for name in figures):
            cleaned["instance_type"] = None
        return cleaned


class ProfileForm(forms.Form):
    """Step 3: the optimization profile."""

    optimization = forms.ChoiceField(choices=Optimization.choices(), initial=Optimization.SERVER,
                                     widget=forms.RadioSelect)


class DiskForm(forms.Form):
    """One disk of step 4. The allocation decides the format: thin disks are
    qcow2 (they grow as written), preallocated ones raw."""

    size_gb = forms.IntegerField(label="Size (GiB)", min_value=1, required=False,
                                 help_text="Empty with an image: the image's size.")
    allocation = forms.ChoiceField(choices=DISK_ALLOCATION_CHOICES, initial=DiskAllocation.THIN)
    storage_domain = forms.ModelChoiceField(queryset=StorageDomain.objects.none(), empty_label=None)
    image = forms.ModelChoiceField(queryset=Image.objects.none(), required=False, empty_label="None: an empty disk",
                                   label="Source image")

    def __init__(self, *args, domains: QuerySet[StorageDomain], images: QuerySet[Image], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["storage_domain"].queryset = domains
        self.fields["storage_domain"].label_from_instance = _domain_label
        self.fields["image"].queryset = images
        self.fields["image"].label_from_instance = lambda image: (
            f"{image.name} ({image.format or '?'}, {_gib(image.virtual_size_bytes)})"
        )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("size_gb") is None and cleaned.get("image") is None and not self.has_error("size_gb"):
            self.add_error("size_gb", "Give a size, or choose an image to copy.")
        return cleaned

    @property
    def format(self) -> str:
        return DiskFormat.RAW if self.cleaned_data["allocation"] == DiskAllocation.PREALLOCATED else DiskFormat.QCOW2


def _domain_label(domain: StorageDomain) -> str:
    if domain.status != StorageDomainStatus.ACTIVE:
        return f"{domain.name} ({StorageDomainStatus.label(domain.status).lower()}: attach it first)"
    if domain.available_bytes is None:
        return f"{domain.name} (free space not measured yet)"
    return f"{domain.name} ({_gib(domain.available_bytes)} free of {_gib(domain.capacity_bytes)})"


class NicForm(forms.Form):
    """One NIC of step 4."""

    network = forms.ModelChoiceField(queryset=Network.objects.none(), empty_label=None)
    model = forms.ChoiceField(choices=NicModel.choices(), required=False, label="Model")
    mac = forms.CharField(label="MAC address", required=False, max_length=MAC_INPUT_MAX,
                          widget=forms.TextInput(attrs={"placeholder": "automatic from the pool",
                                                        "autocomplete": "off", "spellcheck": "false"}))

    def __init__(self, *args, networks: QuerySet[Network], os_type: OperatingSystem | None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["network"].queryset = networks
        self.fields["network"].label_from_instance = lambda network: (
            network.name if network.status == NetworkStatus.ACTIVE
            else f"{network.name} ({NetworkStatus.label(network.status).lower()})"
        )
        default = NicModel.label(os_type.nic_model) if os_type else "VirtIO"
        self.fields["model"].choices = [("", f"The OS's default ({default})"), *NicModel.choices()]


class BaseStepFormSet(forms.BaseFormSet):
    """Rows of step 4: every row is checked, even one left as it was added."""

    def __init__(self, *args, form_kwargs=None, **kwargs):
        super().__init__(*args, form_kwargs=form_kwargs, **kwargs)
        for form in self.forms:
            form.empty_permitted = False
            form.use_required_attribute = False


DiskFormSet = forms.formset_factory(DiskForm, formset=BaseStepFormSet, extra=0, max_num=DEVICES_MAX,
                                    validate_max=True)
NicFormSet = forms.formset_factory(NicForm, formset=BaseStepFormSet, extra=0, max_num=DEVICES_MAX,
                                   validate_max=True)


class FinishForm(forms.Form):
    """Step 5: the console, an optional host pin, and whether to start."""

    console = forms.ChoiceField(choices=ConsoleType.choices(), widget=forms.RadioSelect)
    host = forms.ModelChoiceField(queryset=Host.objects.none(), required=False, label="Run on",
                                  empty_label="Any host: the scheduler chooses",
                                  help_text="Pinning keeps the VM on that host only.")
    start = forms.BooleanField(required=False, initial=True, label="Start the VM once it is created")

    def __init__(self, *args, hosts: QuerySet[Host], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["host"].queryset = hosts


class InitializationForm(forms.Form):
    """First boot: what the guest is told at its first start, a cloud-init
    config drive for Linux OS types or Autounattend.xml for Windows ones
    (vms.services.initialization judges the answers)."""

    personalise = forms.BooleanField(required=False, label="Personalise the first boot",
                                     help_text="A config drive, attached at the first start only, tells the "
                                               "guest its hostname, a user and its time zone.")
    hostname = forms.CharField(required=False, max_length=HOSTNAME_MAX,
                               help_text="Empty: the VM's name. Windows: at most 15 characters, no dots.")
    user_name = forms.CharField(required=False, max_length=USER_NAME_MAX, label="User name",
                                widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}))
    password = forms.CharField(required=False, max_length=PASSWORD_MAX,
                               widget=forms.PasswordInput(render_value=True, attrs={"autocomplete": "new-password"}),
                               help_text="Stored encrypted, never shown again.")
    ssh_authorized_keys = forms.CharField(
        required=False, label="SSH public keys", max_length=KEYS_TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false",
                                     "placeholder": "ssh-ed25519 AAAA... user@laptop"}),
        help_text="One per line, as in a .pub file (Linux guests).")
    timezone = forms.CharField(required=False, max_length=64, label="Time zone",
                               widget=forms.TextInput(attrs={"list": "timezones", "placeholder": "UTC"}),
                               help_text="An IANA name such as Europe/Paris. Empty: the image's own.")
    custom_script = forms.CharField(
        required=False, label="Extra user data", max_length=CUSTOM_SCRIPT_MAX,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
        help_text="Linux: a #cloud-config or a #! script, run after the settings above. "
                  "Windows: a whole Autounattend.xml, used instead of the generated one.")


class RunOnceForm(forms.Form):
    """Start once with options that are never saved into the VM.

    The one declaration of Run Once's inputs: the API's serializer is made
    from it (vms.api.serializers.RunOnceSerializer); lifecycle.vm_run_once judges them."""

    boot_device = forms.ChoiceField(choices=BootDevice.choices(), initial=BootDevice.HD, widget=forms.RadioSelect,
                                    label="Boot from")
    iso = forms.ModelChoiceField(queryset=Image.objects.none(), required=False, label="ISO image",
                                 empty_label="None", help_text="In a CD-ROM drive; booted first when booting from CD.")
    kernel = forms.CharField(required=False, max_length=1024, label="Kernel path",
                             help_text="On the host, absolute; boots it directly instead of the disk's loader.")
    initrd = forms.CharField(required=False, max_length=1024, label="Initrd path")
    cmdline = forms.CharField(required=False, max_length=2048, label="Kernel command line")
    boot_menu = forms.BooleanField(required=False, label="Show the boot menu")
    start_paused = forms.BooleanField(required=False, label="Start paused")
    stateless = forms.BooleanField(required=False, label="Run stateless",
                                   help_text="Writes go to overlays that are thrown away when the VM stops.")
    host = forms.ModelChoiceField(queryset=Host.objects.none(), required=False, label="Run on",
                                  empty_label="Any host: the scheduler chooses")
    console = forms.ChoiceField(required=False, choices=RUN_ONCE_CONSOLES, label="Console")

    def __init__(self, *args, vm, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["iso"].queryset = Image.objects.filter(
            content=ImageContent.ISO, status=ImageStatus.OK, storage_domain__data_center_id=vm.data_center_id,
        ).select_related("storage_domain").order_by("name", "pk")
        self.fields["iso"].label_from_instance = lambda image: f"{image.name} ({image.storage_domain.name})"
        self.fields["host"].queryset = Host.objects.filter(cluster_id=vm.cluster_id).order_by("name")
        self.fields["console"].choices = [
            (value, f"{label} ({ConsoleType.label(vm.console)})" if value == "" else label)
            for value, label in RUN_ONCE_CONSOLES
        ]

    def service_arguments(self) -> dict:
        return run_once_arguments(self.cleaned_data)


def run_once_arguments(answers: dict) -> dict:
    """RunOnceForm's answers (or its serializer's) as lifecycle.vm_run_once's
    arguments: the ISO by id, no console for the VM's own."""
    iso = answers.get("iso")
    return {**answers, "iso": iso.pk if iso else None, "console": answers.get("console") or None}


class SnapshotForm(forms.ModelForm):
    """Take a snapshot. Whether it holds the memory is the VM's state's to say
    (running: always; down: never), so that box only shows the answer."""

    include_memory = forms.BooleanField(required=False, disabled=True, label="Include memory")

    class Meta:
        model = VmSnapshot
        fields = ["description"]

    def __init__(self, *args, vm: Vm, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["include_memory"].initial = vm.status in WITH_MEMORY



def data_domains_of(cluster: Cluster) -> QuerySet[StorageDomain]:
    return StorageDomain.objects.filter(
        data_center_id=cluster.data_center_id, domain_type=StorageDomainType.DATA,
    ).order_by("name", "pk")


def disk_images_of(cluster: Cluster) -> QuerySet[Image]:
    return Image.objects.filter(
        storage_domain__data_center_id=cluster.data_center_id, content=ImageContent.DISK, status=ImageStatus.OK,
    ).order_by("name", "pk")


def vm_networks_of(cluster: Cluster) -> QuerySet[Network]:
    return Network.objects.filter(data_center_id=cluster.data_center_id, vm_network=True).order_by("name", "pk")


class TemplateForm(forms.Form):
    """Make a template of a VM that is down: where its disks' copies go, and
    optionally which template it is a new version of."""

    name = forms.CharField(max_length=NAME_MAX)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    storage_domain = forms.ModelChoiceField(StorageDomain.objects.all(), help_text="Where the disks' copies go.")
    base_template = forms.ModelChoiceField(
        Template.objects.all(), required=False,
        help_text="Make it a new version of this template (empty: a new base template).",
    )
    version_name = forms.CharField(max_length=64, required=False, help_text="The version's name, for a version.")
    seal = forms.NullBooleanField(
        required=False, widget=forms.NullBooleanSelect,
        help_text="Remove the machine identity from the copies with virt-sysprep (hostname, machine-id, SSH host "
                  "keys, persistent net rules, logs, shell history). Empty: as the OS type says, on for Linux.",
    )

    def __init__(self, *args, vm: Vm | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["seal"].widget.choices = [
            ("unknown", "As the OS type says" if vm is None else
             f"As the OS type says ({'seal' if seal_by_default(vm.os_type) else 'do not seal'} "
             f"for {vm.os_type.name})"),
            ("true", "Seal"), ("false", "Do not seal")]
        if vm is not None:  # the page offers the VM's data center's choices only
            self.fields["storage_domain"].queryset = data_domains_of(vm.cluster).filter(
                status=StorageDomainStatus.ACTIVE)
            self.fields["base_template"].queryset = Template.objects.filter(
                data_center_id=vm.data_center_id, base_template=None).order_by("name")


class TemplateFromImageForm(TemplateForm):
    """Or make a template of an uploaded disk image, converted to qcow2; an
    image has no hardware, so the OS type is given and sets the defaults."""

    image = forms.ModelChoiceField(
        Image.objects.filter(content=ImageContent.DISK, status=ImageStatus.OK),
        help_text="Its format was detected at upload; it is converted to qcow2 and left as it is.",
    )
    os_type = forms.ModelChoiceField(
        OperatingSystem.objects.all(), to_field_name="short_id", label="Operating system",
        error_messages={"invalid_choice": "Choose an operating system from the list."},
        help_text="The guest's OS: its recommended memory and vCPUs are the defaults below.",
    )
    memory_mb = forms.IntegerField(label="Memory (MiB)", min_value=1, required=False,
                                   help_text="Empty: the operating system's recommended memory.")
    cpu_sockets = forms.IntegerField(label="Sockets", min_value=1, required=False, help_text="Empty: 1.")
    cpu_cores = forms.IntegerField(label="Cores per socket", min_value=1, required=False,
                                   help_text="Empty: the operating system's recommended vCPUs.")
    cpu_threads = forms.IntegerField(label="Threads per core", min_value=1, required=False, help_text="Empty: 1.")

    field_order = ["image", "name", "description", "os_type", "memory_mb", "cpu_sockets", "cpu_cores",
                   "cpu_threads", "storage_domain"]

    def __init__(self, *args, data_center=None, **kwargs):
        super().__init__(*args, **kwargs)
        # An uploaded image is taken as it is (cloud images come sealed) unless sealing is asked for.
        self.fields["seal"].widget.choices = [
            ("unknown", "As for an image: do not seal"), ("true", "Seal"), ("false", "Do not seal")]
        self.fields["image"].label_from_instance = (
            lambda image: f"{image.name} ({image.format}, {image.storage_domain.name})")
        self.fields["image"].queryset = self.fields["image"].queryset.select_related("storage_domain")
        self.fields["os_type"].widget.choices = CallableChoiceIterator(
            functools.cache(lambda: [("", "Choose an operating system"), *os_choices(OperatingSystem.objects.all())]))
        if data_center is not None:  # the chosen image's data center's choices only
            self.fields["storage_domain"].queryset = StorageDomain.objects.filter(
                data_center=data_center, domain_type=StorageDomainType.DATA,
                status=StorageDomainStatus.ACTIVE).order_by("name", "pk")
            self.fields["base_template"].queryset = Template.objects.filter(
                data_center=data_center, base_template=None).order_by("name")


class EditNicForm(NicForm):
    """One NIC row of the Edit page: a row left without a network is no NIC
    (the spare row adds one when a network is chosen)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["network"].required = False
        self.fields["network"].empty_label = "None"


class BaseEditNicFormSet(forms.BaseFormSet):
    def add_fields(self, form, index):
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].label = "Remove this NIC"


EditNicFormSet = forms.formset_factory(EditNicForm, formset=BaseEditNicFormSet, extra=1, can_delete=True,
                                       max_num=DEVICES_MAX, validate_max=True)


def edit_nics_of(formset) -> list[dict]:
    """The NICs a valid EditNicFormSet asks for, as vm_edit takes them."""
    return [{"network": form.cleaned_data["network"], "model": form.cleaned_data.get("model") or "",
             "mac": form.cleaned_data.get("mac") or ""}
            for form in formset.forms
            if form.cleaned_data.get("network") and not form.cleaned_data.get("DELETE")]


class EditForm(forms.Form):
    """A VM's own settings, declared by the wizard's steps and edited here (``PATCH vms/<id>/``)."""

    name = BasicsForm.base_fields["name"]
    description = BasicsForm.base_fields["description"]
    memory_mb = SizingForm.base_fields["memory_mb"]
    memory_guaranteed_mb = SizingForm.base_fields["memory_guaranteed_mb"]
    cpu_sockets = SizingForm.base_fields["cpu_sockets"]
    cpu_cores = SizingForm.base_fields["cpu_cores"]
    cpu_threads = SizingForm.base_fields["cpu_threads"]
    optimization = ProfileForm.base_fields["optimization"]
    console = FinishForm.base_fields["console"]
    boot_order = forms.CharField(
        max_length=40, required=False, label="Boot order",
        help_text="Devices to boot from, first to last, separated by commas: hd, cdrom, network.")


class MigrateForm(forms.Form):
    """Live-migrate a running VM: the one declaration of the action's inputs
    (vms.api.serializers.MigrateSerializer is made from it); the dialog shows
    every host's verdict beside it (vms.services.migration.migration_destinations)."""

    host = forms.ModelChoiceField(queryset=Host.objects.none(), required=False, label="Destination",
                                  empty_label="Any host: the scheduler chooses")
    policy = forms.ChoiceField(required=False, choices=[("", "The cluster's")] + MigrationPolicy.choices(),
                               label="Migration policy",
                               help_text="How far the guest's pause may grow when the copy does not converge.")

    def __init__(self, *args, vm, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["host"].queryset = Host.objects.filter(cluster_id=vm.cluster_id).exclude(
            pk=vm.host_id).order_by("name")
        self.fields["policy"].choices = [
            (value, f"{label} ({MigrationPolicy.label(vm.cluster.migration_policy)})" if value == "" else label)
            for value, label in self.fields["policy"].choices
        ]


def migrate_arguments(answers: dict) -> dict:
    """MigrateForm's answers (or its serializer's) as vm_migrate's arguments."""
    return {"host": answers.get("host"), "policy": answers.get("policy") or None}
