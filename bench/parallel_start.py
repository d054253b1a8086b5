"""Benchmark of parallel starts and creates: how many are accepted against the room there is.

Twenty VMs of 1 GiB ask at once, each from its own thread and database
connection, through the API as it is served (DRF's APIClient, in-process):
`POST /api/v1/vms/<id>/start/` for twenty VMs that are down (and ran on the
first host before), then `POST /api/v1/vms/` with start for twenty new ones.
The cluster has room for exactly 8 (memory overcommit 100 %, no headroom):
one host of 8 GiB, or two hosts of 4 GiB. It prints, per case, how many were
accepted (202), refused (409) or failed otherwise, what each host would carry
once the accepted ones run (the hosts their placements chose) against its
limit, and the wall time of the burst.

    .venv/bin/python bench/parallel_start.py                      # throwaway SQLite file
    .venv/bin/python bench/parallel_start.py --database-url postgres://u:pw@host/db

No job runs: the jobs are sent to an in-memory broker and live updates go to
an in-memory channel layer, so neither Redis nor a hypervisor is needed; what
is measured is the admission, which is where placement decides.

Exits 1 when a case accepts more or fewer than the room, or leaves a host
over its limit (the hard check); the timings are printed, never checked.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent))

import inventory_api  # noqa: E402  (Django-free at import: it imports Django inside its functions)

VM_MEMORY_MB = 1024
ROOM = 8
LAYOUTS = {"one host of 8 GiB": [8 * VM_MEMORY_MB], "two hosts of 4 GiB": [4 * VM_MEMORY_MB] * 2}


def arguments_parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--database-url",
        help="run on this database server instead of a throwaway SQLite file; the benchmark "
        "creates and drops its own database <name>_bench there, never touching <name>",
    )
    parser.add_argument("--requests", type=int, default=20, help="parallel requests per case (default 20)")
    return parser.parse_args()


def offline() -> None:
    """Jobs to an in-memory broker, live updates to an in-memory layer: nothing leaves the process; quiet logs."""
    import logging

    from celery import current_app
    from django.conf import settings

    logging.disable(logging.WARNING)  # each VM's events and each 409 would be logged: the figures say it

    current_app.conf.broker_url = "memory://"
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


def cluster_seed(name: str, host_memory: list[int]) -> Any:
    from inventory.choices import HostStatus
    from inventory.models import Cluster, DataCenter, Host

    data_center = DataCenter.objects.create(name=f"dc-{name}")
    cluster = Cluster.objects.create(name=name, data_center=data_center, memory_overcommit_percent=100,
                                     reserved_headroom_percent=0)
    for index, memory_mb in enumerate(host_memory):
        Host.objects.create(name=f"{name}-host{index + 1}", cluster=cluster, uri=f"test:///{name}/{index}",
                            status=HostStatus.UP, memory_mb=memory_mb, cpu_sockets=2, cpu_cores_per_socket=4,
                            cpu_threads_per_core=2, cpu_total=16)
    return cluster


def down_vms(cluster: Any, count: int) -> list[Any]:
    from vms.choices import VmStatus
    from vms.models import OperatingSystem, Vm

    os_type, _ = OperatingSystem.objects.get_or_create(short_id="linux-generic", defaults={"name": "Linux"})
    first = cluster.hosts.order_by("name").first()
    return [Vm.objects.create(name=f"{cluster.name}-{n:02}", cluster=cluster, data_center=cluster.data_center,
                              os_type=os_type, memory_mb=VM_MEMORY_MB, memory_guaranteed_mb=VM_MEMORY_MB,
                              status=VmStatus.DOWN, host=first)
            for n in range(count)]


def burst(admin: Any, calls: list[tuple[str, dict]]) -> tuple[list[int | str], float]:
    """POST each (url, body) from its own thread and connection, all released together."""
    from django.db import connections

    gate = threading.Barrier(len(calls) + 1)
    outcomes: list[int | str] = [""] * len(calls)

    def post(index: int, url: str, body: dict) -> None:
        client = inventory_api.api_client(admin)
        try:
            gate.wait()
            outcomes[index] = client.post(url, body, format="json").status_code
        except Exception as error:  # noqa: BLE001  (a failed request is a figure, not the end)
            outcomes[index] = type(error).__name__ + (": database is locked" if "locked" in str(error) else "")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post, args=(i, url, body)) for i, (url, body) in enumerate(calls)]
    for thread in threads:
        thread.start()
    gate.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join(120)
    return outcomes, time.perf_counter() - started


def carried(cluster: Any) -> dict[str, tuple[int, int]]:
    """Per host: (MiB the accepted VMs' placements put there, its limit)."""
    from vms.choices import VmStatus
    from vms.models import Vm

    limits = {host.pk: (host.name, host.memory_mb) for host in cluster.hosts.all()}
    load = Counter()
    for vm in Vm.objects.filter(cluster=cluster).exclude(status=VmStatus.DOWN):
        load[vm.placement.get("host")] += vm.memory_mb
    return {name: (load[pk], limit) for pk, (name, limit) in limits.items()}


def case_run(admin: Any, kind: str, layout: str, requests: int) -> bool:
    name = f"{kind}-{len(LAYOUTS[layout])}"
    cluster = cluster_seed(name, LAYOUTS[layout])
    if kind == "start":
        calls = [(f"/api/v1/vms/{vm.pk}/start/", {}) for vm in down_vms(cluster, requests)]
    else:
        from vms.models import OperatingSystem

        OperatingSystem.objects.get_or_create(short_id="linux-generic", defaults={"name": "Linux"})
        body = {"cluster": cluster.pk, "os_type": "linux-generic", "memory_mb": VM_MEMORY_MB, "start": True}
        calls = [("/api/v1/vms/", {**body, "name": f"{name}-{n:02}"}) for n in range(requests)]
    outcomes, seconds = burst(admin, calls)
    counts = Counter(outcomes)
    hosts = carried(cluster)
    over = [host for host, (load, limit) in hosts.items() if load > limit]
    expected = min(requests, ROOM)
    print(f"{requests} parallel {kind}s, {layout} (room for {ROOM}): {counts.get(202, 0)} accepted, "
          f"{counts.get(409, 0)} refused, {requests - counts.get(202, 0) - counts.get(409, 0)} failed otherwise "
          f"{sorted(str(o) for o in counts if o not in (202, 409))}; {seconds:.2f} s")
    print("    " + ", ".join(f"{host} {load} of {limit} MiB" for host, (load, limit) in hosts.items())
          + (f"; OVER on {', '.join(over)}" if over else ""))
    return counts.get(202, 0) == expected and not over


def main() -> int:
    args = arguments_parse()
    with tempfile.TemporaryDirectory(prefix="bench-parallel-") as scratch:
        inventory_api.django_configure(args.database_url, Path(scratch))
        offline()
        database_drop = inventory_api.database_create(on_server=args.database_url is not None)
        try:
            from django.db import connection

            print(f"Parallel starts and creates against room for {ROOM}, on {connection.vendor}")
            admin = inventory_api.admin_create()
            ok = [case_run(admin, kind, layout, args.requests) for kind in ("start", "create") for layout in LAYOUTS]
        finally:
            from django.db import connections

            connections.close_all()
            database_drop()
    if not all(ok):
        print("\nFAIL: a case did not accept exactly the room there is, or left a host over its limit")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
