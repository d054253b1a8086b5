"""Benchmark of the scheduler (vms.scheduler.place) over one large cluster.

Builds a cluster of 1,000 hosts (the shapes and state mix of
bench/inventory_api.py) carrying 10,000 running VMs, then times:

  - the aggregation a selector does before scheduling: the running VMs' rows
    (as a values() query would return them) summed into each host's committed
    memory, guaranteed memory, vCPUs and VM count, and the HostCandidates built;
  - place() for a stream of VMs under each scheduling policy.

    .venv/bin/python bench/scheduler.py
    .venv/bin/python bench/scheduler.py --hosts 5000 --vms 50000 --placements 500

Pure Python, no database: the scheduler is a pure function. Each placement
sees the same snapshot (nothing is committed between placements). The goal is
a median under 10 ms per placement at 1,000 hosts; timings are printed, never
checked: they depend on the machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Run as a script from anywhere: the project's packages sit one level up.
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from inventory.choices import HostStatus, SchedulingPolicy  # noqa: E402
from vms.scheduler import ClusterRules, HostCandidate, Placement, VmDemand, place  # noqa: E402

GOAL_MS = 10.0
# Instance types (DOMAIN.md): memory MiB, vCPUs; weights as a fleet might run them.
INSTANCE_TYPES = [(512, 1), (2048, 1), (4096, 2), (8192, 2), (16384, 4)]
INSTANCE_WEIGHTS = [2, 4, 6, 3, 1]
# The cluster: Server memory optimization (150 %), some headroom kept for evacuation.
RULES = dict(memory_overcommit_percent=150, reserved_headroom_percent=10, threads_as_cores=False)


def arguments_parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", type=int, default=1000, help="hosts in the cluster (default 1000)")
    parser.add_argument("--vms", type=int, default=10000, help="running VMs spread over them (default 10000)")
    parser.add_argument("--placements", type=int, default=200, help="timed placements per policy (default 200)")
    parser.add_argument("--repeats", type=int, default=20, help="timed aggregations (default 20)")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the inventory and the VMs (default 1)")
    return parser.parse_args()


def host_rows(count: int, rng: random.Random) -> list[dict[str, Any]]:
    """What the host query returns: bench/inventory_api.py's four two-socket
    shapes, two NUMA cells each, mostly up; networks and storage domains that
    not every host has, one SPM."""
    mix = ([HostStatus.UP] * 16 + [HostStatus.MAINTENANCE, HostStatus.NON_RESPONSIVE,
                                   HostStatus.PREPARING_FOR_MAINTENANCE, HostStatus.NON_OPERATIONAL])
    rows = []
    for index in range(count):
        sockets, cores, threads, memory_mb = [
            (2, 16, 2, 262144), (2, 24, 2, 524288), (2, 32, 2, 1048576), (2, 8, 2, 131072),
        ][index % 4]
        total = sockets * cores * threads
        per_cell = total // 2
        rows.append({
            "id": index + 1, "name": f"host-{index:04}", "status": mix[index % len(mix)],
            "memory_mb": memory_mb, "cores": sockets * cores, "threads": total,
            "numa_cells": tuple((tuple(range(cell * per_cell, (cell + 1) * per_cell)), memory_mb // 2)
                                for cell in range(2)),
            "networks": frozenset({1, 2} | ({3} if index % 4 else set())),
            "storage_domains": frozenset({1, 2} | ({3} if index % 2 else set())),
            "is_spm": index == 0,
            "cpu_load_percent": rng.randint(0, 70),
        })
    return rows


def vm_rows(count: int, hosts: list[dict[str, Any]], rng: random.Random) -> list[dict[str, Any]]:
    """What the running VMs' query returns: host, memory, guaranteed memory
    (all of it, or half for ballooned VMs), vCPUs. VMs run on hosts that run
    VMs: up, or still preparing for maintenance."""
    running = [row["id"] for row in hosts
               if row["status"] in (HostStatus.UP, HostStatus.PREPARING_FOR_MAINTENANCE)]
    rows = []
    for _ in range(count):
        memory_mb, vcpus = rng.choices(INSTANCE_TYPES, INSTANCE_WEIGHTS)[0]
        rows.append({"host_id": rng.choice(running), "memory_mb": memory_mb,
                     "memory_guaranteed_mb": memory_mb // rng.choice([1, 2]), "vcpus": vcpus})
    return rows


def candidates_build(hosts: list[dict[str, Any]], vms: list[dict[str, Any]]) -> list[HostCandidate]:
    """The selector's work: sum the VMs per host, then one HostCandidate each."""
    sums: dict[int, list[int]] = {}
    for row in vms:
        total = sums.get(row["host_id"])
        if total is None:
            total = sums[row["host_id"]] = [0, 0, 0, 0]
        total[0] += row["memory_mb"]
        total[1] += row["memory_guaranteed_mb"]
        total[2] += row["vcpus"]
        total[3] += 1
    empty = [0, 0, 0, 0]
    candidates = []
    for row in hosts:
        memory, guaranteed, vcpus, count = sums.get(row["id"], empty)
        candidates.append(HostCandidate(
            committed_memory_mb=memory, committed_guaranteed_mb=guaranteed, committed_vcpus=vcpus,
            vm_count=count, **row,
        ))
    return candidates


def demands_make(count: int, rng: random.Random) -> list[VmDemand]:
    """VMs to place: the same instance types; one in ten high-performance
    (NUMA), some needing the network and storage domain not every host has."""
    demands = []
    for _ in range(count):
        memory_mb, vcpus = rng.choices(INSTANCE_TYPES, INSTANCE_WEIGHTS)[0]
        demands.append(VmDemand(
            memory_mb=memory_mb, memory_guaranteed_mb=memory_mb // 2, vcpus=vcpus,
            networks=frozenset({1} | ({3} if rng.random() < 0.3 else set())),
            storage_domains=frozenset({1} | ({3} if rng.random() < 0.3 else set())),
            needs_numa=rng.random() < 0.1,
        ))
    return demands


def timed(action: Callable[[], Any], repeats: int) -> tuple[list[float], Any]:
    """Wall times in milliseconds, and the last result."""
    samples, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = action()
        samples.append((time.perf_counter() - started) * 1000)
    return samples, result


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20, method="inclusive")[18]


def machine_describe(args: argparse.Namespace) -> None:
    cpuinfo = Path("/proc/cpuinfo")
    models = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
              if line.startswith("model name")] if cpuinfo.exists() else []
    cpu = models[0] if models else platform.processor() or "unknown CPU"
    print("Scheduler: one placement over a large cluster, per policy")
    print(f"  machine: {len(os.sched_getaffinity(0))} CPUs (nproc), {cpu}, {platform.system()} {platform.release()}")
    print(f"  software: {platform.python_implementation()} {platform.python_version()}")
    print(f"  cluster: {args.hosts} hosts (4 two-socket shapes, 2 NUMA cells each; 16 in 20 up), "
          f"{args.vms} running VMs on the up and preparing ones, 150 % overcommit, 10 % headroom, "
          "default policy parameters")
    print(f"  aggregation: the VM rows summed per host and the HostCandidates built, {args.repeats} times")
    print(f"  placements: {args.placements} VMs per policy (instance types Tiny..XLarge, 1 in 10 NUMA, "
          "some needing a network or storage domain not every host has), each against the same snapshot, "
          "after 10 untimed; wall time of place(), in-process, garbage collector on")
    print()


def main() -> int:
    args = arguments_parse()
    rng = random.Random(args.seed)
    hosts = host_rows(args.hosts, rng)
    vms = vm_rows(args.vms, hosts, rng)
    machine_describe(args)

    samples, candidates = timed(lambda: candidates_build(hosts, vms), args.repeats)
    print(f"{'step':<32}{'median ms':>10}{'p95 ms':>9}  result")
    print(f"{'aggregate + candidates':<32}{statistics.median(samples):>10.2f}{p95(samples):>9.2f}  "
          f"{len(candidates)} hosts, {sum(c.vm_count for c in candidates)} VMs")

    demands = demands_make(args.placements, rng)
    medians = []
    for policy in SchedulingPolicy.values():
        rules = ClusterRules(policy=policy, **RULES)
        for demand in demands[:10]:
            place(demand, candidates, rules)
        samples, placements = [], []
        for demand in demands:
            started = time.perf_counter()
            placements.append(place(demand, candidates, rules))
            samples.append((time.perf_counter() - started) * 1000)
        medians.append(statistics.median(samples))
        print(f"{'place: ' + policy:<32}{statistics.median(samples):>10.2f}{p95(samples):>9.2f}  "
              f"{outcome(placements)}")
    print()
    worst = max(medians)
    print(f"goal: median under {GOAL_MS:g} ms per placement at {args.hosts} hosts: "
          f"{'met' if worst < GOAL_MS else 'MISSED'} (slowest policy's median {worst:.2f} ms)")
    print(f"example: {placements_example(demands[0], candidates)}")
    return 0


def outcome(placements: list[Placement]) -> str:
    placed = [p for p in placements if p.host_id is not None]
    passing = statistics.mean(sum(v.passed for v in p.verdicts) for p in placements)
    return f"{len(placed)}/{len(placements)} placed, {passing:.0f} hosts passing on average"


def placements_example(demand: VmDemand, candidates: list[HostCandidate]) -> str:
    rules = ClusterRules(policy=SchedulingPolicy.EVENLY_DISTRIBUTED, **RULES)
    return place(demand, candidates, rules).summary


if __name__ == "__main__":
    sys.exit(main())
