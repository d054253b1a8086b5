"""Editing a VM's own settings (issue 9, "Editing a VM"), checked by the same
rules as its creation (vms.services.requests.vm_settings_check).

A VM that is down changes at once. A running one (up or paused) takes each
change the way it can:

- at once, in the rows: its name, description and guaranteed memory (the
  portal's own figures; the domain's name follows at the next start);
- live, by a job: more memory up to the ceiling its domain was defined with
  (a DIMM plugged in), and more or fewer vCPUs by whole sockets up to its
  ceiling (``vms.services.definition.live_maximums``, ``hypervisor.hotplug``);
- at the next start, kept meanwhile as its next-run configuration
  (``Vm.next_run``, with the reason for each): everything else, what goes
  beyond a ceiling, less memory, and whatever libvirt refuses live.

The next start applies the next-run configuration to the rows before the VM
is placed (``vm_next_run_apply``, called by lifecycle's start), so the
scheduler sees what will run."""

from __future__ import annotations

from dataclasses import replace

from django.db import transaction

from core.errors import Conflict
from core.events import event_record
from core.jobs import JobRun, job_create
from core.models import Job, Severity
import hypervisor
from hypervisor import HypervisorError
from vms.choices import VmStatus
from inventory.models import Network
from vms.models import Vm, VmNic, vcpu_count
from vms.services.macs import macs_allocate
from vms.services.placement import cluster_lock, demand_of, placement_for
from vms.services.requests import (TOPOLOGY_FIELDS, Errors, NicRequest, VmRequest, boot_order_devices,
                                   vm_nics_clean, vm_settings_check)

# The settings an edit may change, as named on Vm and in VmRequest.
EDITABLE_FIELDS = (
    "name", "description", "memory_mb", "memory_guaranteed_mb", "cpu_sockets", "cpu_cores", "cpu_threads",
    "optimization", "console", "boot_order", "nics",
)
EDITABLE_DOWN = (VmStatus.DOWN,)
EDITABLE_RUNNING = (VmStatus.UP, VmStatus.PAUSED)
# On a running VM: what only the portal reads, so it changes at once.
AT_ONCE = ("name", "description", "memory_guaranteed_mb")
CPU_FIELDS = ("cpu_sockets", "cpu_cores", "cpu_threads")
NEXT_START = "Takes effect at the next start."
LABELS = {
    "name": "Name", "description": "Description", "memory_mb": "Memory (MiB)",
    "memory_guaranteed_mb": "Guaranteed memory (MiB)", "cpu_sockets": "Sockets", "cpu_cores": "Cores per socket",
    "cpu_threads": "Threads per core", "optimization": "Optimization", "console": "Console",
    "boot_order": "Boot order", "nics": "Network interfaces",
}


def vm_edit(*, vm: Vm, user, changes: dict) -> tuple[Vm, Job | None]:
    """Apply ``changes`` (a subset of EDITABLE_FIELDS): ValidationError per
    field (nothing changed) when a creation rule refuses, Conflict when the VM
    is neither down nor running. Returns the VM and the job changing it live
    (None when nothing needs the hypervisor)."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        errors = Errors()
        for name in sorted(unknown):
            errors.add(name, "This setting cannot be edited.")
        errors.raise_any()
    with transaction.atomic():
        cluster_lock(vm.cluster_id)  # a live growth is placed on its host against what the others commit
        vm = (Vm.objects.select_for_update(of=("self",))  # PostgreSQL locks no nullable outer join
              .select_related("cluster__data_center", "os_type", "host").get(pk=vm.pk))
        if vm.status not in EDITABLE_DOWN + EDITABLE_RUNNING:
            raise Conflict(f"VM {vm.name} is {vm.get_status_display().lower()}; it can be edited when it is down, "
                           "up or paused.")
        # What the VM will be: its rows, then what already waits for the next start, then this edit.
        target = vm_settings(vm)
        given = dict(changes)
        if "nics" in given:
            given["nics"] = [{"network": nic["network"].pk, "model": nic.get("model") or "",
                              "mac": nic.get("mac") or ""} for nic in given["nics"]]
        target.update(given)
        errors = Errors()
        request = replace(VmRequest(cluster=vm.cluster, os_type=vm.os_type, name="",
                                    nics=_nic_requests(target["nics"], errors)),
                          **{name: value for name, value in target.items() if name != "nics"})
        vm_settings_check(request, errors, editing=vm)
        if "nics" in changes:
            cleaned = vm_nics_clean(request, errors, editing=vm, allocate=False)
            target["nics"] = [{"network": nic.network.pk, "model": nic.model, "mac": nic.mac} for nic in cleaned]
        errors.raise_any()
        target["boot_order"] = ",".join(boot_order_devices(target["boot_order"]))
        if vm.status in EDITABLE_DOWN:
            return _edit_down(vm, user, target), None
        return _edit_running(vm, user, target)


def pending_values(vm: Vm) -> dict:
    """The next-run configuration as {field: value}."""
    return {name: entry["value"] for name, entry in (vm.next_run or {}).items()}


def vm_settings(vm: Vm) -> dict:
    """What the VM will run with: its settings, with the changes waiting for
    its next start; NICs as [{network (id), model, mac}]."""
    settings = {name: getattr(vm, name) for name in EDITABLE_FIELDS if name != "nics"}
    settings["nics"] = _nic_rows(vm)
    settings.update(pending_values(vm))
    return settings


def _nic_rows(vm: Vm) -> list[dict]:
    return [{"network": nic.network_id, "model": nic.model, "mac": nic.mac} for nic in vm.nics.order_by("index")]


def _nic_requests(nics: list[dict], errors: Errors) -> tuple[NicRequest, ...]:
    networks = Network.objects.in_bulk([nic["network"] for nic in nics])
    requests = []
    for number, nic in enumerate(nics, start=1):
        network = networks.get(nic["network"])
        if network is None:
            errors.add("nics", f"NIC {number}: network {nic['network']} no longer exists.")
            continue
        requests.append(NicRequest(network=network, model=nic["model"], mac=nic["mac"]))
    return tuple(requests)


def next_run_changes(vm: Vm) -> list[dict]:
    """The pending changes as the VM page lists them: what, now, next, why."""
    changes = []
    for name, entry in (vm.next_run or {}).items():
        now, next_value = (getattr(vm, name), entry["value"]) if name != "nics" else (
            _nics_text(_nic_rows(vm)), _nics_text(entry["value"]))
        changes.append({"field": name, "label": LABELS.get(name, name), "now": now, "next": next_value,
                        "reason": entry["reason"]})
    return changes


def _nics_text(nics: list[dict]) -> str:
    names = Network.objects.in_bulk([nic["network"] for nic in nics])
    return "; ".join(f"{getattr(names.get(nic['network']), 'name', '?')} ({nic['model'] or 'OS default'}, "
                     f"{nic['mac'] or 'new MAC'})" for nic in nics) or "none"


def _edit_down(vm: Vm, user, target: dict) -> Vm:
    current = {**{name: getattr(vm, name) for name in EDITABLE_FIELDS if name != "nics"}, "nics": _nic_rows(vm)}
    changed = [name for name in EDITABLE_FIELDS if target[name] != current[name]]
    if not changed and vm.next_run is None:
        return vm
    old_name = vm.name
    fields = _set(vm, {name: target[name] for name in changed})
    vm.next_run = None  # a down VM has nothing waiting: the rows are what starts
    vm.save(update_fields=[*fields, "instance_type", "next_run"])
    event_record(code="vm.edited", user=user, target=vm,
                 message=f"VM {old_name} edited by {user}: {', '.join(changed) or 'pending changes dropped'}")
    return vm


def _edit_running(vm: Vm, user, target: dict) -> tuple[Vm, Job | None]:
    live: dict[str, int] = {}
    pending: dict[str, dict] = {}
    memory = target["memory_mb"]
    if memory > vm.memory_mb and vm.max_memory_mb and memory <= vm.max_memory_mb:
        live["memory_mb"] = memory
    elif memory > vm.memory_mb:
        pending["memory_mb"] = _entry(memory, f"{memory} MiB is more than the {vm.max_memory_mb or vm.memory_mb} "
                                              "MiB the VM was started with room for. " + NEXT_START)
    elif memory < vm.memory_mb:
        pending["memory_mb"] = _entry(memory, "Memory is taken back only at the next start: a running guest "
                                              "cannot be made to give plugged memory back.")
    cpus = [target[name] for name in CPU_FIELDS]
    if cpus != [getattr(vm, name) for name in CPU_FIELDS]:
        total = vcpu_count(*cpus)
        if cpus[1:] != [vm.cpu_cores, vm.cpu_threads]:
            reason = "Cores and threads per socket change only at the next start; vCPUs are plugged by whole sockets."
        elif not vm.max_vcpus or total > vm.max_vcpus:
            reason = (f"{total} vCPUs are more than the {vm.max_vcpus or vm.vcpus} the VM was started with room "
                      "for. " + NEXT_START)
        else:
            reason = ""
            live["cpu_sockets"] = cpus[0]
        if reason:
            pending.update({name: _entry(target[name], reason) for name in CPU_FIELDS
                            if target[name] != getattr(vm, name)})
    guaranteed = target["memory_guaranteed_mb"]
    at_once = {name: target[name] for name in ("name", "description") if target[name] != getattr(vm, name)}
    if guaranteed != vm.memory_guaranteed_mb:
        if guaranteed <= vm.memory_mb:
            at_once["memory_guaranteed_mb"] = guaranteed
        elif "memory_mb" in live:
            live["memory_guaranteed_mb"] = guaranteed  # once the memory it needs is there
        else:
            pending["memory_guaranteed_mb"] = _entry(guaranteed, "Waits for the memory it needs at the next start.")
    for name in ("optimization", "console", "boot_order"):
        if target[name] != getattr(vm, name):
            pending[name] = _entry(target[name], "It changes the VM's devices. " + NEXT_START)
    if target["nics"] != _nic_rows(vm):
        pending["nics"] = _entry(target["nics"], "NICs are not plugged live yet. " + NEXT_START)
    if live:
        refusal = _host_refusal(vm, live)
        if refusal:
            pending.update({name: _entry(value, refusal) for name, value in live.items()})
            live = {}
    old_name = vm.name
    for name, value in at_once.items():
        setattr(vm, name, value)
    vm.next_run = pending or None
    vm.save(update_fields=[*at_once, "next_run"])
    parts = [f"at once: {', '.join(at_once)}" if at_once else "",
             f"live: {', '.join(live)}" if live else "", f"next start: {', '.join(pending)}" if pending else ""]
    if any(parts):
        event_record(code="vm.edited", user=user, target=vm,
                     message=f"VM {old_name} edited by {user}; " + "; ".join(part for part in parts if part))
    if not live:
        return vm, None
    steps = (["Plug memory"] if "memory_mb" in live else []) + (["Set vCPUs"] if "cpu_sockets" in live else [])
    job = job_create(title=f"Change VM {vm.name} live", task="vm.edit_live", steps=steps, target=vm, user=user,
                     task_args=(live,))
    return vm, job


def _host_refusal(vm: Vm, live: dict) -> str:
    """Why its host cannot take the grown VM now (the scheduler's rules:
    overcommit, headroom), or ""."""
    sockets = live.get("cpu_sockets", vm.cpu_sockets)
    demand = replace(
        demand_of(vm, pinned_host=vm.host), memory_mb=live.get("memory_mb", vm.memory_mb),
        memory_guaranteed_mb=live.get("memory_guaranteed_mb", vm.memory_guaranteed_mb),
        vcpus=vcpu_count(sockets, vm.cpu_cores, vm.cpu_threads))
    placement = placement_for(cluster=vm.cluster, demand=demand, leaving_out_vm=vm.pk)
    if placement.host_id == vm.host_id:
        return ""
    return f"Its host has no room for it now ({placement.summary}). {NEXT_START}"


def _entry(value, reason: str) -> dict:
    return {"value": value, "reason": reason}


def _set(vm: Vm, values: dict) -> list[str]:
    """Set ``values`` on the row (NICs: its NIC rows are replaced, blank MACs
    from the pool); a preset whose figures no longer describe the VM is
    dropped (the VM is "custom", as at creation). The row's fields to save."""
    fields = []
    for name, value in values.items():
        if name == "nics":
            _nics_replace(vm, value)
        else:
            setattr(vm, name, value)
            fields.append(name)
    preset = vm.instance_type
    if preset is not None and any(getattr(vm, name) != getattr(preset, name) for name in TOPOLOGY_FIELDS):
        vm.instance_type = None
    return fields


def _nics_replace(vm: Vm, nics: list[dict]) -> None:
    vm.nics.all().delete()
    given = {nic["mac"] for nic in nics if nic["mac"]}
    # A MAC kept pending may have been taken meanwhile: it gets a fresh one too.
    taken = set(VmNic.objects.filter(data_center_id=vm.data_center_id, mac__in=given).values_list("mac", flat=True))
    wanted = sum(1 for nic in nics if not nic["mac"] or nic["mac"] in taken)
    fresh = iter(macs_allocate(data_center=vm.data_center, count=wanted, taken=given))
    for index, nic in enumerate(nics):
        mac = nic["mac"] if nic["mac"] and nic["mac"] not in taken else next(fresh)
        VmNic.objects.create(vm=vm, index=index, network_id=nic["network"], model=nic["model"], mac=mac,
                             data_center_id=vm.data_center_id)


def vm_edit_live_run(run: JobRun, live: dict) -> None:
    """Plug memory and set vCPUs on the VM's host; the rows follow what
    libvirt did. What libvirt refuses joins the next-run configuration with
    its reason (and a warning event): the edit is kept, only later."""
    vm = Vm.objects.select_related("host", "instance_type").get(pk=run.job.target_id)
    uri, uuid = vm.host.uri, str(vm.uuid)
    refused: dict[str, dict] = {}
    if "memory_mb" in live:
        with run.step("Plug memory"):
            grow = live["memory_mb"] - vm.memory_mb
            try:
                if grow > 0:
                    hypervisor.plug_memory(uri, uuid, grow)
                values = {"memory_mb": live["memory_mb"]}
                if "memory_guaranteed_mb" in live:
                    values["memory_guaranteed_mb"] = live["memory_guaranteed_mb"]
                _save_live(vm, values)
            except HypervisorError as error:
                refused.update({name: _entry(live[name], f"Refused live ({error.message}). {NEXT_START}")
                                for name in ("memory_mb", "memory_guaranteed_mb") if name in live})
    if "cpu_sockets" in live:
        with run.step("Set vCPUs"):
            count = vcpu_count(live["cpu_sockets"], vm.cpu_cores, vm.cpu_threads)
            try:
                hypervisor.set_vcpus(uri, uuid, count)
                _save_live(vm, {"cpu_sockets": live["cpu_sockets"]})
            except HypervisorError as error:
                refused["cpu_sockets"] = _entry(live["cpu_sockets"], f"Refused live ({error.message}). {NEXT_START}")
    if refused:
        with transaction.atomic():
            fresh = Vm.objects.select_for_update().get(pk=vm.pk)
            Vm.objects.filter(pk=vm.pk).update(next_run={**(fresh.next_run or {}), **refused})
        run.event(code="vm.edit_deferred", severity=Severity.WARNING,
                  message=f"VM {vm.name}: {', '.join(refused)} could not change live and wait for the next start.")


def _save_live(vm: Vm, values: dict) -> None:
    vm.save(update_fields=[*_set(vm, values), "instance_type"])


def vm_next_run_apply(*, vm: Vm, user=None) -> None:
    """At a start: the next-run configuration becomes the VM's settings (the
    VM is down, in the start's transaction: a refused start keeps it pending)."""
    if not vm.next_run:
        return
    values = pending_values(vm)
    fields = _set(vm, values)
    vm.next_run = None
    vm.save(update_fields=[*fields, "instance_type", "next_run"])
    event_record(code="vm.next_run_applied", user=user, target=vm,
                 message=f"VM {vm.name} starts with its pending changes: {', '.join(values)}")
