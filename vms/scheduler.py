"""The scheduler: which host a VM starts on, and why each other host was not
chosen. oVirt's shape (DOMAIN.md): filters refuse hosts, then the cluster's
policy weighs the hosts left.

Pure: frozen dataclasses in, a Placement out; no Django, no I/O. The start
service, the wizard's preview and the what-if evacuation plan all ask this one
function, and a selector gathers what each host already carries into its
HostCandidate (committed memory, vCPUs, VM count).

Filters, in order; the first that fails rejects the host and its verdict names it:
  policy   cluster_maintenance: no new VM starts anywhere in the cluster
  pinned   a VM pinned to a host is considered for that host only
  status   only up hosts take new VMs
  memory   committed + the VM <= physical x overcommit % x (100 - headroom) %,
           and guaranteed memory (the balloon floor) is never overcommitted:
           committed guaranteed + the VM's <= physical x (100 - headroom) %
  cpu      the VM's vCPUs <= the host's threads, or its cores when the
           cluster does not count threads as cores
  network  every network the VM needs is on the host
  storage  every storage domain the VM's disks use is reachable from the host
  numa     (high-performance VMs) the VM, split evenly over k of the host's
           NUMA cells, fits each of them, for some k; a host that reports no
           cells is one cell of all its CPUs and memory. Cells are measured
           whole: what other VMs use inside a cell is not known here.

Scores: LOWER IS BETTER, as with oVirt's weights. A policy may rank hosts in
tiers (an under-used host under power_saving, a crowded one under
vm_evenly_distributed); each tier adds TIER, so any host of a better tier
wins. Equal scores go to the first host by (name, id).

"Load" (evenly_distributed, power_saving) is the larger of memory, committed
memory as a share of the memory allowed (the memory filter's figure), and CPU,
the host's measured load plus the VM's vCPUs as a share of the host's CPUs
(a new VM counted as busy).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from inventory.choices import HostStatus, SchedulingPolicy
from inventory.scheduling import PARAMETERS

NumaCell = tuple[tuple[int, ...], int]  # (logical CPU ids, memory MiB)

TIER = 1000.0  # scores within a tier stay below this
FILTERS = ("policy", "pinned", "status", "memory", "cpu", "network", "storage", "numa")
# Refused hosts are listed furthest-through-the-filters first: the nearest misses.
_REFUSED_ORDER = {name: -rank for rank, name in enumerate(FILTERS)}
DEFAULTS = {name: default for known in PARAMETERS.values() for name, (default, _, _) in known.items()}
NO_NEW_VMS = "the cluster is in maintenance (cluster_maintenance policy): no new VM starts in it"
_STATUS_PHRASES = {
    HostStatus.MAINTENANCE: "in maintenance",
    HostStatus.PREPARING_FOR_MAINTENANCE: "preparing for maintenance",
    HostStatus.ERROR: "in error",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class HostCandidate:
    id: int
    name: str
    status: str  # a HostStatus value
    memory_mb: int  # physical
    cores: int
    threads: int
    numa_cells: tuple[NumaCell, ...]  # () when the host reports none
    networks: frozenset  # ids of the networks on the host
    storage_domains: frozenset  # ids of the storage domains it reaches
    committed_memory_mb: int
    committed_guaranteed_mb: int
    committed_vcpus: int
    vm_count: int
    is_spm: bool
    cpu_load_percent: float = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class ClusterRules:
    memory_overcommit_percent: int = 100
    reserved_headroom_percent: int = 0
    threads_as_cores: bool = False
    policy: str = SchedulingPolicy.NONE
    parameters: Mapping[str, int] = field(default_factory=dict)  # as stored; defaults fill gaps

    def parameter(self, name: str) -> int:
        return self.parameters.get(name, DEFAULTS[name])


@dataclass(frozen=True, slots=True, kw_only=True)
class VmDemand:
    memory_mb: int
    memory_guaranteed_mb: int
    vcpus: int
    networks: frozenset = frozenset()
    storage_domains: frozenset = frozenset()
    needs_numa: bool = False  # high_performance: vNUMA pinned to host cells
    pinned_host_id: int | None = None


@dataclass(frozen=True, slots=True)
class HostVerdict:
    host_id: int
    host_name: str
    passed: bool
    filter: str | None  # the rejecting filter, None when passed
    reason: str
    score: float | None  # None when rejected; lower is better


@dataclass(frozen=True, slots=True)
class Placement:
    host_id: int | None
    host_name: str | None
    verdicts: tuple[HostVerdict, ...]  # passed best first, then refused nearest miss first
    summary: str  # one line for the VM page and the event

    def as_dict(self) -> dict:
        """JSON-serialisable; stored as the VM's last placement."""
        return {"host": self.host_id, "reasons": [
            {"host": v.host_id, "host_name": v.host_name, "passed": v.passed, "filter": v.filter,
             "reason": v.reason, "score": v.score}
            for v in self.verdicts
        ]}


def place(vm: VmDemand, hosts: Sequence[HostCandidate], rules: ClusterRules) -> Placement:
    """The host the VM should start on (None when no host fits), with a
    verdict for every host."""
    if rules.policy not in _WEIGHTS:
        raise ValueError(f"Unknown scheduling policy {rules.policy!r}.")
    ordered = sorted(hosts, key=lambda host: (host.name, host.id))
    if rules.policy == SchedulingPolicy.CLUSTER_MAINTENANCE:
        refused = [HostVerdict(host.id, host.name, False, "policy", NO_NEW_VMS, None) for host in ordered]
        return Placement(None, None, tuple(refused), f"No host fits: {NO_NEW_VMS}")
    refusal_of = _filters(vm, rules, ordered)
    weigh = _WEIGHTS[rules.policy](vm, rules)
    passed, refused = [], []
    for host in ordered:
        refusal = refusal_of(host)
        if refusal is None:
            score, reason = weigh(host)
            passed.append(HostVerdict(host.id, host.name, True, None, reason, score))
        else:
            refused.append(HostVerdict(host.id, host.name, False, refusal[0], refusal[1], None))
    # Stable sorts: equal keys keep the (name, id) order.
    passed.sort(key=lambda verdict: verdict.score)
    refused.sort(key=lambda verdict: _REFUSED_ORDER[verdict.filter])
    verdicts = tuple(passed + refused)
    if not passed:
        return Placement(None, None, verdicts, _summary_refused(refused))
    best = passed[0]
    return Placement(best.host_id, best.host_name, verdicts,
                     f"Placed on {best.host_name}: {_lead(rules, best.score)}{best.reason} ({rules.policy})")


# Filters ---------------------------------------------------------------------

def _filters(vm: VmDemand, rules: ClusterRules, hosts: Sequence[HostCandidate]):
    """A function from a host to None (it fits) or (filter, reason)."""
    headroom = rules.reserved_headroom_percent
    overcommit = rules.memory_overcommit_percent
    share = overcommit * (100 - headroom)  # of physical memory, in 1/10000
    guaranteed_share = 100 - headroom  # in 1/100: never overcommitted
    threads_count = rules.threads_as_cores
    unit = "threads" if threads_count else "cores (threads not counted as cores)"
    pinned = vm.pinned_host_id
    if pinned is not None:
        name = next((host.name for host in hosts if host.id == pinned), None)
        pinned_refusal = ("pinned", f"pinned to another host ({name})" if name is not None
                          else f"pinned to another host (id {pinned}, not in this cluster)")

    def refusal_of(host: HostCandidate) -> tuple[str, str] | None:
        if pinned is not None and host.id != pinned:
            return pinned_refusal
        if host.status != HostStatus.UP:
            phrase = _STATUS_PHRASES.get(host.status) or HostStatus.label(host.status).lower()
            return "status", f"host is {phrase}; only up hosts take new VMs"
        allowed = host.memory_mb * share // 10000
        if host.committed_memory_mb + vm.memory_mb > allowed:
            free = max(0, allowed - host.committed_memory_mb)
            return "memory", (f"needs {vm.memory_mb} MiB, {free} MiB free of {allowed} MiB allowed "
                              f"({overcommit} % overcommit, {headroom} % headroom)")
        allowed = host.memory_mb * guaranteed_share // 100
        if host.committed_guaranteed_mb + vm.memory_guaranteed_mb > allowed:
            free = max(0, allowed - host.committed_guaranteed_mb)
            return "memory", (f"needs {vm.memory_guaranteed_mb} MiB guaranteed, {free} MiB free of {allowed} MiB "
                              f"that may be guaranteed (never overcommitted, {headroom} % headroom)")
        cpus = host.threads if threads_count else host.cores
        if vm.vcpus > cpus:
            return "cpu", f"needs {vm.vcpus} vCPUs, host has {cpus} {unit}"
        if not vm.networks <= host.networks:
            return "network", f"needs network(s) not on the host: {_ids(vm.networks - host.networks)}"
        if not vm.storage_domains <= host.storage_domains:
            missing = vm.storage_domains - host.storage_domains
            return "storage", f"needs storage domain(s) the host cannot reach: {_ids(missing)}"
        if vm.needs_numa:
            return _numa_refusal(vm, host, threads_count)
        return None

    return refusal_of


def _numa_refusal(vm: VmDemand, host: HostCandidate, threads_count: bool) -> tuple[str, str] | None:
    # A cell's CPUs are logical CPUs (threads); counted in cores, each cell
    # holds cores/threads as many.
    ratio = 1 if threads_count else host.cores / max(host.threads, 1)
    cells = [(len(cpus) * ratio, memory) for cpus, memory in host.numa_cells] or \
        [(host.threads if threads_count else host.cores, host.memory_mb)]
    for k in range(1, len(cells) + 1):  # split evenly over k cells
        need_cpus, need_memory = -(-vm.vcpus // k), -(-vm.memory_mb // k)  # ceilings
        fitting = 0
        for cpus, memory in cells:
            if cpus >= need_cpus and memory >= need_memory:
                fitting += 1
        if fitting >= k:
            return None
    unit = "threads" if threads_count else "cores"
    return "numa", (f"needs {vm.vcpus} vCPUs and {vm.memory_mb} MiB within NUMA cells; the host's {len(cells)} "
                    f"cell(s) hold at most {int(max(c for c, _ in cells))} {unit} and {max(m for _, m in cells)} "
                    "MiB each")


def _ids(ids: frozenset) -> str:
    return ", ".join(str(i) for i in sorted(ids))


# Weights: host -> (score, reason), lower score better ---------------------------

def _loads(vm: VmDemand, rules: ClusterRules):
    """A function from a host to its memory % and CPU % after placing the VM,
    and its load (the larger of the two) before."""
    share = rules.memory_overcommit_percent * (100 - rules.reserved_headroom_percent)
    threads_count = rules.threads_as_cores

    def loads(host: HostCandidate) -> tuple[float, float, float]:
        allowed = max(host.memory_mb * share // 10000, 1)
        cpus = max(host.threads if threads_count else host.cores, 1)
        memory = (host.committed_memory_mb + vm.memory_mb) * 100 / allowed
        cpu = host.cpu_load_percent + vm.vcpus * 100 / cpus
        before = max(host.committed_memory_mb * 100 / allowed, host.cpu_load_percent)
        return memory, cpu, before

    return loads


def host_load(host: HostCandidate, rules: ClusterRules) -> float:
    """The host's load now, in %: the larger of its committed memory as a
    share of the memory allowed and its CPU load (the balancer's measure)."""
    return _loads(VmDemand(memory_mb=0, memory_guaranteed_mb=0, vcpus=0), rules)(host)[2]


def _none(vm: VmDemand, rules: ClusterRules):
    return lambda host: (0.0, "fits; hosts are taken in name order")


def _evenly_distributed(vm: VmDemand, rules: ClusterRules):
    loads = _loads(vm, rules)

    def weigh(host: HostCandidate) -> tuple[float, str]:
        memory, cpu, _ = loads(host)
        return round(max(memory, cpu), 2), f"memory {memory:.0f} % and CPU {cpu:.0f} % after placement"

    return weigh


def _power_saving(vm: VmDemand, rules: ClusterRules):
    """Fill the busiest host that stays under HighUtilization; leave hosts
    under LowUtilization alone, so they empty and can be powered down."""
    loads = _loads(vm, rules)
    high, low = rules.parameter("HighUtilization"), rules.parameter("LowUtilization")

    def weigh(host: HostCandidate) -> tuple[float, str]:
        memory, cpu, before = loads(host)
        after = max(memory, cpu)
        figures = f"memory {memory:.0f} % and CPU {cpu:.0f} % after placement"
        if after > high:
            return round(2 * TIER + after, 2), f"{figures}, above HighUtilization {high} %"
        if before < low:
            return round(TIER + 100 - after, 2), f"{figures}; {before:.0f} % before, under LowUtilization {low} %"
        return round(100 - after, 2), f"{figures}, under HighUtilization {high} %"

    return weigh


def _vm_evenly_distributed(vm: VmDemand, rules: ClusterRules):
    """Fewest VMs; the SPM host counts SpmVmGrace more, for its storage work.
    A host that really runs HighVmCount VMs or more is over-utilised: it
    comes last, after an SPM host that only its grace makes look as full."""
    high, grace = rules.parameter("HighVmCount"), rules.parameter("SpmVmGrace")

    def weigh(host: HostCandidate) -> tuple[float, str]:
        count = host.vm_count + (grace if host.is_spm else 0)
        reason = f"{host.vm_count} VMs" + (f" + {grace} SPM grace = {count}" if host.is_spm else "")
        if host.vm_count >= high:
            return TIER + count, f"{reason}, at or above HighVmCount {high}"
        return float(count), reason

    return weigh


_WEIGHTS = {
    SchedulingPolicy.NONE: _none,
    SchedulingPolicy.EVENLY_DISTRIBUTED: _evenly_distributed,
    SchedulingPolicy.POWER_SAVING: _power_saving,
    SchedulingPolicy.VM_EVENLY_DISTRIBUTED: _vm_evenly_distributed,
    SchedulingPolicy.CLUSTER_MAINTENANCE: None,  # refuses every host (place)
}


# Summaries -------------------------------------------------------------------

def _lead(rules: ClusterRules, score: float) -> str:
    """Why the chosen host won, before its own reason."""
    tier = int(score // TIER)
    return {
        SchedulingPolicy.NONE: [""],
        SchedulingPolicy.EVENLY_DISTRIBUTED: ["least loaded, "],
        SchedulingPolicy.POWER_SAVING: ["busiest host that fits, ",
                                        "only under-used hosts fit, the busiest of them: ",
                                        "every host fits only above HighUtilization, the least loaded: "],
        SchedulingPolicy.VM_EVENLY_DISTRIBUTED: ["fewest VMs, ", "every host is at HighVmCount, fewest VMs: "],
    }[rules.policy][tier]


def _summary_refused(refused: list[HostVerdict], shown: int = 5) -> str:
    if not refused:
        return "No host fits: the cluster has no hosts"
    parts = [f"{v.host_name} rejected by {v.filter}" if i == 0 else f"{v.host_name} by {v.filter}"
             for i, v in enumerate(refused[:shown])]
    more = f" and {len(refused) - shown} more" if len(refused) > shown else ""
    return f"No host fits: {', '.join(parts)}{more}"
