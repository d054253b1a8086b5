"""The cluster balancer: what the scheduling policy asks to change now.

Pure functions over the scheduler's types (no Django, no libvirt): the dry-run
page and the periodic task (vms/services/balancing.py) ask the same function,
and every decision carries its reason, which becomes its event.

One step per run, as oVirt's balancer does: at most one migration (a cluster
that moves many VMs at once never settles), or one power action.

- evenly_distributed: the most loaded host above HighUtilization gives its
  smallest movable VM to the host the scheduler picks, if that host stays
  under HighUtilization.
- power_saving: an up host under LowUtilization that runs VMs is emptied
  onto the others (the scheduler's power_saving weights fill the busiest that
  stay under HighUtilization), one VM per run; an empty, under-used host with
  power management is powered off (never the SPM, never the last up host);
  when every up host is above HighUtilization, a powered-off host with power
  management is powered on.
- vm_evenly_distributed: the host with the most VMs, above HighVmCount and
  more than MigrationThreshold above the host with the fewest, gives one VM
  to the host the scheduler picks.

Load is the scheduler's: the larger of committed memory as a share of the
memory allowed and the host's CPU load. (oVirt also waits
CpuOverCommitDurationMinutes before acting on CPU load; the hosts' CPU load is
not sampled over time yet, so memory decides here.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from inventory.choices import HostStatus, SchedulingPolicy
from vms.evacuation import Evacuee, host_with_vm
from vms.scheduler import ClusterRules, HostCandidate, host_load, place


class DecisionKind:
    MIGRATE = "migrate"
    POWER_OFF = "power_off"
    POWER_ON = "power_on"


@dataclass(frozen=True, slots=True)
class BalanceDecision:
    kind: str  # a DecisionKind
    host_id: int  # the host it acts on: the source of a migration, or the one powered
    host_name: str
    reason: str
    vm_id: int | None = None
    vm_name: str | None = None
    to_host_id: int | None = None
    to_host_name: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PowerState:
    """What the balancer needs beyond the scheduler's view of a host."""

    power_managed: bool  # a BMC is configured and enabled


def balance(
    hosts: Sequence[HostCandidate],
    vms: dict[int, Sequence[Evacuee]],  # host id -> the VMs running there
    rules: ClusterRules,
    power: dict[int, PowerState] | None = None,
) -> BalanceDecision | None:
    """The one step the cluster's policy asks for now, or None."""
    power = power or {}
    up = [host for host in hosts if host.status == HostStatus.UP]
    if rules.policy == SchedulingPolicy.EVENLY_DISTRIBUTED:
        return _evenly(up, vms, rules)
    if rules.policy == SchedulingPolicy.POWER_SAVING:
        return _power_saving(hosts, up, vms, rules, power)
    if rules.policy == SchedulingPolicy.VM_EVENLY_DISTRIBUTED:
        return _vm_evenly(up, vms, rules)
    return None


def _evenly(up, vms, rules) -> BalanceDecision | None:
    high = rules.parameter("HighUtilization")
    for source in sorted(up, key=lambda host: -host_load(host, rules)):
        load = host_load(source, rules)
        if load <= high:
            return None
        why = f"{source.name} is at {load:.0f} %, above HighUtilization {high} %"
        decision = _move_one(source, up, vms, rules, why, smallest_first=True,
                             fits=lambda target, vm: host_load(host_with_vm(target, vm.demand), rules) <= high)
        if decision is not None:
            return decision
    return None


def _power_saving(hosts, up, vms, rules, power) -> BalanceDecision | None:
    high, low = rules.parameter("HighUtilization"), rules.parameter("LowUtilization")
    if up and all(host_load(host, rules) > high for host in up):
        for host in sorted(hosts, key=lambda host: host.name):
            if host.status == HostStatus.DOWN and power.get(host.id, PowerState(power_managed=False)).power_managed:
                return BalanceDecision(DecisionKind.POWER_ON, host.id, host.name,
                                       f"every up host is above HighUtilization {high} %: more capacity is needed")
        return None
    for source in sorted(up, key=lambda host: (host_load(host, rules), host.name)):
        load = host_load(source, rules)
        if load >= low or len(up) < 2:
            break
        if vms.get(source.id):
            why = f"{source.name} is at {load:.0f} %, under LowUtilization {low} %: emptying it to power it down"
            others = [host for host in up if host.id != source.id]
            decision = _move_one(source, others + [source], vms, rules, why, smallest_first=False,
                                 fits=lambda target, vm: host_load(host_with_vm(target, vm.demand), rules) <= high)
            if decision is not None:
                return decision
            continue
        if power.get(source.id, PowerState(power_managed=False)).power_managed and not source.is_spm:
            return BalanceDecision(DecisionKind.POWER_OFF, source.id, source.name,
                                   f"{source.name} runs no VM and is under LowUtilization {low} %: powered "
                                   "down to save power until capacity runs short")
    return None


def _vm_evenly(up, vms, rules) -> BalanceDecision | None:
    high, threshold = rules.parameter("HighVmCount"), rules.parameter("MigrationThreshold")
    if len(up) < 2:
        return None
    crowded = max(up, key=lambda host: (host.vm_count, host.name))
    emptiest = min(up, key=lambda host: (host.vm_count, host.name))
    if crowded.vm_count <= high or crowded.vm_count - emptiest.vm_count <= threshold:
        return None
    why = (f"{crowded.name} runs {crowded.vm_count} VMs, above HighVmCount {high} and more than "
           f"MigrationThreshold {threshold} above {emptiest.name} ({emptiest.vm_count})")
    return _move_one(crowded, up, vms, rules, why, smallest_first=True,
                     fits=lambda target, vm: target.vm_count + 1 < crowded.vm_count)


def _move_one(source, hosts, vms, rules, why, *, smallest_first, fits) -> BalanceDecision | None:
    """The first of the source's movable VMs that the scheduler can place on
    another host where ``fits`` holds."""
    targets = [host for host in hosts if host.id != source.id]
    order = sorted(vms.get(source.id, ()), key=lambda vm: (vm.demand.memory_mb if smallest_first
                                                           else -vm.demand.memory_mb, vm.name))
    for vm in order:
        if not vm.migratable or vm.demand.pinned_host_id == source.id:
            continue
        placement = place(vm.demand, targets, rules)
        if placement.host_id is None:
            continue
        target = next(host for host in targets if host.id == placement.host_id)
        if not fits(target, vm):
            continue
        return BalanceDecision(DecisionKind.MIGRATE, source.id, source.name,
                               f"{why}; {vm.name} goes to {target.name} ({placement.summary})",
                               vm.id, vm.name, target.id, target.name)
    return None
