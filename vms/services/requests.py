"""What a VM creation asks for, checked once for both faces (the wizard and
``POST /api/v1/vms/``). Every refusal is a ValidationError keyed by the field
it is about, so the API answers 400 ``{"field": ["message"]}`` and the wizard
shows the message under that field; nothing is created before all pass."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from django.core.exceptions import ValidationError
from django.db.models import Max

from inventory.choices import HostStatus, StorageDomainStatus, StorageDomainType
from inventory.models import Cluster, Host, Image, Network, StorageDomain
from inventory.services.images import image_copy_problem
from vms.choices import ConsoleType, DiskAllocation, DiskFormat, Optimization, Provisioning
from vms.models import InstanceType, OperatingSystem, Template, TemplateDisk, Vm, VmNic, vcpu_count
from vms.policy import BOOT_DEVICES, default_provisioning
from vms.services.from_template import HARDWARE_FIELDS, template_choice_problem, template_latest
from vms.services.initialization import InitializationRequest, initialization_clean
from vms.services.macs import mac_clean, macs_allocate

GIB = 1024**3
# Input limits, declared here once: the rules below enforce them, the wizard's
# forms and the API's serializer declare them from here.
NAME_MAX = 64
MAC_INPUT_MAX = 32  # a MAC as typed (any case, "-" or ":"); mac_clean says whether it is one
DEVICES_MAX = 8  # disks, and NICs, per VM
# Hosts whose facts count for "the largest host" (a host never read has none).
HOSTS_WITH_FACTS = (HostStatus.UP, HostStatus.MAINTENANCE, HostStatus.NON_OPERATIONAL)
TOPOLOGY_FIELDS = ("memory_mb", "cpu_sockets", "cpu_cores", "cpu_threads")


@dataclass(frozen=True)
class DiskRequest:
    storage_domain: StorageDomain
    size_gb: int | None = None  # None: the image's size
    format: str = DiskFormat.QCOW2
    allocation: str = DiskAllocation.THIN
    interface: str = ""  # "": the OS type's bus
    bootable: bool = False
    image: Image | None = None
    template_disk: TemplateDisk | None = None  # made from it (thin or clone: the VM's provisioning)


@dataclass(frozen=True)
class NicRequest:
    network: Network
    model: str = ""  # "": the OS type's model
    mac: str = ""  # "": the next free address of the data center's pool


@dataclass(frozen=True)
class VmRequest:
    name: str
    cluster: Cluster
    os_type: OperatingSystem | None = None  # None: the template's
    description: str = ""
    instance_type: InstanceType | None = None
    optimization: str | None = None  # None: the template's, else server
    memory_mb: int | None = None
    memory_guaranteed_mb: int | None = None
    cpu_sockets: int | None = None
    cpu_cores: int | None = None
    cpu_threads: int | None = None
    provisioning: str | None = None  # None: the profile's (vms.policy.default_provisioning)
    # A clone's disks: thin (qcow2) or preallocated (raw).
    clone_allocation: str = DiskAllocation.THIN
    console: str | None = None
    host: Host | None = None  # pin
    disks: tuple[DiskRequest, ...] = ()
    nics: tuple[NicRequest, ...] = ()
    start: bool = False
    boot_order: str = "hd"  # comma-separated vms.policy.BOOT_DEVICES, first to last
    # Its hardware fills what is left empty and its disks come first;
    # template_latest: the newest ready version of its family instead.
    template: Template | None = None
    template_latest: bool = False
    initialization: InitializationRequest | None = None  # first boot; None: none


class Errors:
    """Collects refusals per field so the user sees all of them at once."""

    def __init__(self) -> None:
        self.by_field: dict[str, list[str]] = {}

    def add(self, name: str, message: str) -> None:
        self.by_field.setdefault(name, []).append(message)

    def raise_any(self) -> None:
        if self.by_field:
            raise ValidationError(self.by_field)


def vm_request_clean(request: VmRequest) -> VmRequest:
    """The request with every default filled in (instance type figures, the
    OS type's recommendations, guaranteed memory, MACs, bootable disk), or a
    ValidationError naming each bad field."""
    errors = Errors()
    request = _with_template(request, errors)
    if request.os_type is None:
        errors.raise_any()
        raise ValidationError({"os_type": "Choose an operating system."})
    request = _with_sizing(request)
    vm_settings_check(request, errors)
    if request.host is not None and request.host.cluster_id != request.cluster.pk:
        errors.add("host", f"Host {request.host.name} is not in cluster {request.cluster.name}.")
    disks = _clean_disks(request, errors)
    nics = vm_nics_clean(request, errors)
    initialization = _clean_initialization(request, disks, errors)
    errors.raise_any()
    return replace(request, disks=disks, nics=nics, initialization=initialization)


def _clean_initialization(request: VmRequest, disks: tuple[DiskRequest, ...],
                          errors: Errors) -> InitializationRequest | None:
    if request.initialization is None:
        return None
    # An OS to personalise: a disk copied from an image (or, with templates, the template's disks).
    has_os_disk = any(disk.image is not None or disk.template_disk is not None for disk in disks)
    cleaned, problems = initialization_clean(request.initialization, vm_name=request.name,
                                             os_type=request.os_type, has_os_disk=has_os_disk)
    for problem in problems:
        errors.add("initialization", problem)
    return cleaned


def _with_template(request: VmRequest, errors: Errors) -> VmRequest:
    """The version the VM comes from ("latest" resolved now), its hardware
    where the request left it empty, its disks before the request's own, and
    the provisioning the profile gives when none was asked for."""
    template = request.template
    if template is None:
        if request.provisioning == Provisioning.THIN:
            errors.add("provisioning", "Thin provisioning shares a template's disks: choose a template, or clone.")
        return replace(request, optimization=request.optimization or Optimization.SERVER,
                       provisioning=Provisioning.CLONE, template_latest=False)
    if request.template_latest:
        template = template_latest(template) or template
    problem = template_choice_problem(template, request.cluster.data_center_id)
    if problem:
        errors.add("template", problem)
        return replace(request, template=template, optimization=request.optimization or template.optimization,
                       os_type=request.os_type or template.os_type, provisioning=Provisioning.CLONE)
    fills = {}
    if request.instance_type is None:
        fills = {name: getattr(template, name) for name in HARDWARE_FIELDS if getattr(request, name) is None}
        if request.memory_mb is not None and request.memory_guaranteed_mb is None:
            fills.pop("memory_guaranteed_mb", None)  # the VM's own share of its own memory
    fills.setdefault("os_type", request.os_type or template.os_type)
    optimization = request.optimization or template.optimization
    console = request.console
    if console is None and (optimization != Optimization.HIGH_PERFORMANCE or template.console == ConsoleType.NONE):
        console = template.console
    allocation = request.clone_allocation
    provisioning = request.provisioning or default_provisioning(optimization)
    # A request cleaned before holds the template's disks already: they are added once.
    own_disks = tuple(disk for disk in request.disks if disk.template_disk is None)
    template_disks = tuple(
        DiskRequest(storage_domain=disk.storage_domain, size_gb=disk.size_gb, interface=disk.interface,
                    bootable=disk.bootable, template_disk=disk,
                    allocation=DiskAllocation.THIN if provisioning == Provisioning.THIN else allocation,
                    format=DiskFormat.QCOW2)
        for disk in template.disks.select_related("storage_domain").order_by("index")
    )
    models = list(template.nic_models)
    nics = tuple(nic if nic.model or index >= len(models) else replace(nic, model=models[index])
                 for index, nic in enumerate(request.nics))
    return replace(request, template=template, template_latest=False, optimization=optimization, console=console,
                   provisioning=provisioning, disks=template_disks + own_disks, nics=nics, **fills)


def vm_settings_check(request: VmRequest, errors: Errors, *, editing: Vm | None = None) -> None:
    """The rules a VM's own settings obey, at creation and at every edit:
    name (unique per data center, ``editing`` aside), OS minimums, the largest
    host, the profile's console."""
    _check_name(request, errors, editing)
    _check_sizing(request, errors)
    _check_profile(request, errors)
    _check_boot_order(request, errors)


def boot_order_devices(text: str) -> list[str]:
    """"hd, Network" -> ["hd", "network"]: how a boot order is written and stored."""
    return [device.strip().lower() for device in (text or "").split(",") if device.strip()]


def _check_boot_order(request: VmRequest, errors: Errors) -> None:
    devices = boot_order_devices(request.boot_order)
    if not devices:
        errors.add("boot_order", f"Give at least one boot device: {', '.join(BOOT_DEVICES)}.")
        return
    unknown = [device for device in devices if device not in BOOT_DEVICES]
    if unknown:
        errors.add("boot_order", f"{', '.join(unknown)}: not a boot device; choose from {', '.join(BOOT_DEVICES)}.")
    elif len(set(devices)) != len(devices):
        errors.add("boot_order", "Each boot device may appear only once.")
    if "network" in devices and not request.nics:
        errors.add("boot_order", "Booting from the network needs a NIC; the VM has none.")


def _with_sizing(request: VmRequest) -> VmRequest:
    """Instance type first, then the OS type's recommendation; a figure the
    user changed makes the VM "custom" (no instance type)."""
    preset = request.instance_type
    os_type = request.os_type
    fallback = {
        "memory_mb": preset.memory_mb if preset else os_type.recommended_memory_mb,
        "cpu_sockets": preset.cpu_sockets if preset else os_type.recommended_vcpus,
        "cpu_cores": preset.cpu_cores if preset else 1,
        "cpu_threads": preset.cpu_threads if preset else 1,
    }
    given = {name: getattr(request, name) for name in TOPOLOGY_FIELDS}
    sized = {name: fallback[name] if value is None else value for name, value in given.items()}
    if preset is not None and any(sized[name] != getattr(preset, name) for name in TOPOLOGY_FIELDS):
        preset = None
    optimization = request.optimization
    console = request.console
    if console is None:
        console = ConsoleType.NONE if optimization == Optimization.HIGH_PERFORMANCE else ConsoleType.VNC
    guaranteed = request.memory_guaranteed_mb
    if guaranteed is None and isinstance(sized["memory_mb"], int):
        # The share the cluster's overcommit lets the VM count on; high
        # performance VMs are never overcommitted.
        if optimization == Optimization.HIGH_PERFORMANCE:
            guaranteed = sized["memory_mb"]
        else:
            guaranteed = math.ceil(sized["memory_mb"] * 100 / request.cluster.memory_overcommit_percent)
    return replace(request, instance_type=preset, memory_guaranteed_mb=guaranteed, console=console, **sized)


def name_problem(name: str, noun: str = "VM") -> str:
    """What is wrong with ``name`` as the name of a VM or a template ("" when
    nothing is); uniqueness in the data center is each one's own check."""
    if not name or not name.strip():
        return f"Give the {noun} a name."
    if name != name.strip():
        return "The name must not start or end with a space."
    if len(name) > NAME_MAX:
        return f"The name is {len(name)} characters long; at most {NAME_MAX} are allowed."
    if "/" in name or any(ord(c) < 32 or ord(c) == 127 for c in name):
        return "The name must not contain '/' or control characters."
    return ""


def _check_name(request: VmRequest, errors: Errors, editing: Vm | None = None) -> None:
    name = request.name
    problem = name_problem(name)
    if problem:
        errors.add("name", problem)
    elif (Vm.objects.filter(data_center_id=request.cluster.data_center_id, name=name)
          .exclude(pk=editing.pk if editing else None).exists()):
        errors.add("name", f"Data center {request.cluster.data_center.name} already has a VM named {name}.")


def _largest_host(cluster: Cluster) -> dict:
    return Host.objects.filter(cluster=cluster, status__in=HOSTS_WITH_FACTS).aggregate(
        memory_mb=Max("memory_mb"), threads=Max("cpu_total"), sockets=Max("cpu_sockets"),
        cores=Max("cpu_cores_per_socket"),
    )


def largest_host_limits(cluster: Cluster) -> tuple[int | None, int | None]:
    """(memory in MiB, vCPUs) of the cluster's largest host, as a VM may have
    them (threads or cores, as the cluster counts); None where no host says."""
    largest = _largest_host(cluster)
    threads = largest["threads"]
    if threads and not cluster.threads_as_cores and largest["sockets"] and largest["cores"]:
        threads = largest["sockets"] * largest["cores"]
    return largest["memory_mb"] or None, threads or None


def _check_sizing(request: VmRequest, errors: Errors) -> None:
    os_type = request.os_type
    memory = request.memory_mb
    if memory is None or memory < 1:
        errors.add("memory_mb", "Memory must be at least 1 MiB.")
        return
    if memory < os_type.minimum_memory_mb:
        errors.add("memory_mb", f"{os_type.name} needs at least {os_type.minimum_memory_mb} MiB; {memory} MiB was given.")
    guaranteed = request.memory_guaranteed_mb
    if guaranteed is None or not 0 <= guaranteed <= memory:
        errors.add("memory_guaranteed_mb", f"Guaranteed memory must be between 0 and the VM's memory ({memory} MiB).")
    counts = [getattr(request, name) for name in ("cpu_sockets", "cpu_cores", "cpu_threads")]
    if any(count is None or count < 1 for count in counts):
        errors.add("cpu_sockets", "Sockets, cores and threads must each be at least 1.")
        return
    vcpus = vcpu_count(*counts)
    if vcpus < os_type.minimum_vcpus:
        errors.add("cpu_sockets", f"{os_type.name} needs at least {os_type.minimum_vcpus} vCPUs; {vcpus} were given.")
    largest_memory_mb, threads = largest_host_limits(request.cluster)
    if threads and vcpus > threads:
        unit = "threads" if request.cluster.threads_as_cores else "cores"
        errors.add(
            "cpu_sockets",
            f"{counts[0]} x {counts[1]} x {counts[2]} = {vcpus} vCPUs is more than the largest host of "
            f"cluster {request.cluster.name} has ({threads} {unit}).",
        )
    if largest_memory_mb and memory > largest_memory_mb:
        errors.add(
            "memory_mb",
            f"{memory} MiB is more than the largest host of cluster {request.cluster.name} has "
            f"({largest_memory_mb} MiB).",
        )


def _check_profile(request: VmRequest, errors: Errors) -> None:
    if request.optimization == Optimization.HIGH_PERFORMANCE and request.console != ConsoleType.NONE:
        errors.add(
            "console",
            "High performance VMs are headless (serial console only): choose console none, or another profile.",
        )


def _clean_disks(request: VmRequest, errors: Errors) -> tuple[DiskRequest, ...]:
    data_center = request.cluster.data_center
    cleaned = []
    wanted_by_domain: dict[int, int] = {}
    if len(request.disks) > DEVICES_MAX:
        errors.add("disks", f"{len(request.disks)} disks were given; a VM has at most {DEVICES_MAX}.")
    for number, disk in enumerate(request.disks, start=1):
        label = f"Disk {number}"
        domain = disk.storage_domain
        size_gb = disk.size_gb
        if disk.image is not None:
            size_gb = _check_image(disk, label, size_gb, errors)
        if size_gb is None or size_gb < 1:
            errors.add("disks", f"{label}: give a size of at least 1 GiB.")
            continue
        problem = storage_domain_problem(domain, data_center)
        if problem:
            errors.add("disks", f"{label}: {problem}")
            continue
        fmt = disk.format
        if disk.allocation == DiskAllocation.PREALLOCATED:
            fmt = DiskFormat.RAW
            wanted_by_domain[domain.pk] = wanted_by_domain.get(domain.pk, 0) + size_gb * GIB
            free = domain.available_bytes
            if free is not None and wanted_by_domain[domain.pk] > free:
                errors.add(
                    "disks",
                    f"{label}: {size_gb} GiB preallocated does not fit on storage domain {domain.name} "
                    f"({free / GIB:.1f} GiB free).",
                )
                continue
        cleaned.append(replace(disk, size_gb=size_gb, format=fmt))
    if cleaned and not any(disk.bootable for disk in cleaned):
        cleaned[0] = replace(cleaned[0], bootable=True)
    if sum(disk.bootable for disk in cleaned) > 1:
        errors.add("disks", "Only one disk can be bootable.")
    return tuple(cleaned)


def storage_domain_problem(domain: StorageDomain, data_center) -> str:
    """Why a disk of a VM in ``data_center`` cannot live on ``domain`` ("" when it can)."""
    if domain.data_center_id != data_center.pk:
        return f"storage domain {domain.name} is not in data center {data_center.name}."
    if domain.domain_type != StorageDomainType.DATA:
        return f"storage domain {domain.name} is not a data domain."
    if domain.status != StorageDomainStatus.ACTIVE:
        return f"storage domain {domain.name} is {StorageDomainStatus.label(domain.status).lower()}; attach it first."
    return ""


def _check_image(disk: DiskRequest, label: str, size_gb: int | None, errors: Errors) -> int | None:
    image = disk.image
    problem = image_copy_problem(image)
    if problem:
        errors.add("disks", f"{label}: {problem}")
        return None
    image_gb = math.ceil((image.virtual_size_bytes or 0) / GIB) or 1
    if size_gb is None:
        return image_gb
    if size_gb * GIB < (image.virtual_size_bytes or 0):
        errors.add("disks", f"{label}: {size_gb} GiB is smaller than image {image.name} ({image_gb} GiB).")
    return size_gb


def vm_nics_clean(request: VmRequest, errors: Errors, *, editing: Vm | None = None,
                  allocate: bool = True) -> tuple[NicRequest, ...]:
    """The NICs' rules, at creation and when an edit replaces a VM's NICs
    (``editing``: its own MACs are not "taken"); ``allocate``: blank MACs get
    the pool's next free ones."""
    data_center = request.cluster.data_center
    cleaned = []
    given = set()
    if len(request.nics) > DEVICES_MAX:
        errors.add("nics", f"{len(request.nics)} NICs were given; a VM has at most {DEVICES_MAX}.")
    for number, nic in enumerate(request.nics, start=1):
        label = f"NIC {number}"
        if nic.network.data_center_id != data_center.pk:
            errors.add("nics", f"{label}: network {nic.network.name} is not in data center {data_center.name}.")
            continue
        if not nic.network.vm_network:
            errors.add("nics", f"{label}: network {nic.network.name} is not a VM network.")
            continue
        mac = nic.mac
        if mac:
            try:
                mac = mac_clean(mac)
            except ValidationError as error:
                errors.add("nics", f"{label}: {error.message_dict['nics'][0]}")
                continue
            if mac in given or _mac_taken(data_center, mac, editing):
                errors.add("nics", f"{label}: MAC {mac} is already used in data center {data_center.name}.")
                continue
            given.add(mac)
        cleaned.append(replace(nic, mac=mac))
    if errors.by_field or not allocate:
        return tuple(cleaned)
    fresh = iter(macs_allocate(data_center=data_center, count=sum(not n.mac for n in cleaned), taken=given))
    return tuple(nic if nic.mac else replace(nic, mac=next(fresh)) for nic in cleaned)


def _mac_taken(data_center, mac: str, editing: Vm | None = None) -> bool:
    nics = VmNic.objects.filter(data_center=data_center, mac=mac)
    if editing is not None:
        nics = nics.exclude(vm=editing)
    return nics.exists()
