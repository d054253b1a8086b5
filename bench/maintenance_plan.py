"""Benchmark of a host's maintenance plan (vms.services.maintenance).

Seeds one cluster of 50 up hosts (64 GiB, 32 threads each) whose source host
runs 200 VMs (1-4 GiB, with a NIC and a disk each) while every other host
already carries 20, then times maintenance_plan(source): the selectors'
queries, the 200 placements on the real scheduler, and the estimate. Also the
plan over the API (GET /api/v1/hosts/<id>/maintenance-plan/, in-process).

    .venv/bin/python bench/maintenance_plan.py
    .venv/bin/python bench/maintenance_plan.py --hosts 100 --vms 400 --database-url postgres://u:pw@host/db

The goal (issue 11) is under 100 ms for 200 VMs in a 50-host cluster; the
figures are printed, never checked: they depend on the machine.
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent))

import inventory_api  # noqa: E402  (Django-free at import)

GOAL_MS = 100.0
GIB_MIB = 1024


def seed(hosts: int, vms: int, others_each: int):
    from inventory.choices import HostStatus, NetworkStatus, StorageDomainStatus
    from inventory.models import Cluster, DataCenter, Host, Network, StorageDomain
    from vms.choices import VmStatus
    from vms.models import OperatingSystem, Vm, VmDisk, VmNic

    data_center = DataCenter.objects.create(name="dc")
    cluster = Cluster.objects.create(name="cl", data_center=data_center, memory_overcommit_percent=150,
                                     reserved_headroom_percent=10)
    rows = Host.objects.bulk_create([
        Host(name=f"host{n:03d}", cluster=cluster, uri=f"test:///default?h={n}", status=HostStatus.UP,
             memory_mb=64 * GIB_MIB, cpu_sockets=2, cpu_cores_per_socket=8, cpu_threads_per_core=2, cpu_total=32,
             numa_nodes=[{"index": 0, "cpus": list(range(16)), "memory_mb": 32 * GIB_MIB},
                         {"index": 1, "cpus": list(range(16, 32)), "memory_mb": 32 * GIB_MIB}])
        for n in range(hosts)
    ])
    domain = StorageDomain.objects.create(name="data", data_center=data_center, path="/srv/data",
                                          status=StorageDomainStatus.ACTIVE)
    network = Network.objects.create(name="vmnet", data_center=data_center, bridge="br-vmnet",
                                     status=NetworkStatus.ACTIVE)
    os_type = OperatingSystem.objects.create(short_id="debian12", name="Debian 12", family="linux",
                                             minimum_memory_mb=256, recommended_memory_mb=1024)
    rng = random.Random(7)
    placed = [(rows[0], n) for n in range(vms)] + [(host, n) for host in rows[1:] for n in range(others_each)]
    machines = Vm.objects.bulk_create([
        Vm(name=f"vm-{host.pk}-{n}", cluster=cluster, data_center=data_center, os_type=os_type, host=host,
           status=VmStatus.UP, memory_mb=rng.choice([1, 2, 4]) * GIB_MIB, cpu_sockets=rng.choice([1, 2]))
        for host, n in placed
    ])
    VmNic.objects.bulk_create([VmNic(vm=vm, network=network, data_center=data_center, index=0, mac=f"56:6f:00:{vm.pk >> 16 & 255:02x}:"
                                     f"{vm.pk >> 8 & 255:02x}:{vm.pk & 255:02x}") for vm in machines])
    VmDisk.objects.bulk_create([VmDisk(vm=vm, storage_domain=domain, index=0, size_gb=10, volume_name=f"{vm.pk}.qcow2")
                                for vm in machines])
    return rows[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--vms", type=int, default=200, help="VMs on the host to be emptied")
    parser.add_argument("--others", type=int, default=20, help="VMs on each other host")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        inventory_api.django_configure(args.database_url, Path(scratch))
        drop = inventory_api.database_create(on_server=bool(args.database_url))
        try:
            return run(args)
        finally:
            drop()


def run(args) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    from vms.services.maintenance import maintenance_plan

    source = seed(args.hosts, args.vms, args.others)
    source = type(source).objects.get(pk=source.pk)  # as a request would read it: nothing cached
    with CaptureQueriesContext(connection) as queries:
        plan = maintenance_plan(source)
    query_count = len(queries)  # now: every request of the client below empties Django's query log
    service_ms, api_ms = [], []
    client = APIClient(SERVER_NAME="localhost")
    client.force_authenticate(inventory_api.admin_create())
    for _ in range(args.runs):
        started = time.perf_counter()
        maintenance_plan(source)
        service_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        answer = client.get(f"/api/v1/hosts/{source.pk}/maintenance-plan/")
        api_ms.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200, answer.content
    print(f"maintenance plan: {args.vms} VMs on the source, {args.hosts} hosts, {args.others} VMs on each other; "
          f"{connection.vendor}, Python {platform.python_version()}")
    print(f"  plan: {len(plan.moves)} moves, {len(plan.blockers)} blockers, {plan.memory_mb_moved} MiB moved, "
          f"estimated {plan.estimated_seconds:.0f} s; {query_count} SQL queries")
    for label, figures in (("service", service_ms), ("API", api_ms)):
        print(f"  {label:8} median {statistics.median(figures):6.1f} ms  "
              f"max {max(figures):6.1f} ms over {args.runs} runs (goal: under {GOAL_MS:.0f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
