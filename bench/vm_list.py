"""Benchmark of the VM list: SQL queries per page and latency, API and page.

For GET /api/v1/vms/ (its default page, a page filtered by status and
cluster, and a ?q= search) and for the VM list page /vms/ (the same three
views of it) it prints the number of SQL queries one page costs at each
fleet size, whether that number stays constant as the fleet grows, and the
median and p95 latency of that page at the largest size (goal: a median under
50 ms). Requests run in-process: the API through DRF's APIClient, the page
through Django's test Client logged in, both as a superuser made here.

    .venv/bin/python bench/vm_list.py                      # throwaway SQLite file
    .venv/bin/python bench/vm_list.py --database-url postgres://u:pw@host/db

The fleet at 10,000 VMs: 200 hosts, with the data centers, clusters and
storage domains bench/inventory_api.py seeds for that many hosts (2, 8 and 16;
its helpers are imported, not copied), each VM with one or two disks, one NIC,
an OS type and, once placed, the scheduler's verdict for each host of its
cluster; smaller sizes scale the hosts down with the VMs. Everything is
written with bulk_create.

Exits 1 when a page's query count grows with the fleet (the one hard check),
else 0. Timings and the goal are printed, never checked: they depend on the
machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Run as a script from anywhere: this directory holds inventory_api.py (whose
# helpers are reused), the project's packages sit one level up.
BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent))

import inventory_api  # noqa: E402  (Django-free at import: it imports Django inside its functions)

# 10,000 VMs over 200 hosts (50 a host). At 100 VMs and more every default
# page is full (50 rows), so a query per row would cost the same 50 extra
# queries at each of those sizes and not show as growth; at 10 VMs the pages
# hold fewer rows, hence the 10.
FULL_VMS, FULL_HOSTS = 10_000, 200
DEFAULT_SIZES = [10, 100, 1_000, 10_000]
GOAL_MS = 50.0
SEARCH = "web"  # a fifth of the VMs are web-NNNNN
OWNERS = 20
ROLES = ["web", "db", "app", "cache", "build"]
# (short id, name, family): the OS types the fleet runs.
OS_TYPES = [
    ("rhel9.4", "Red Hat Enterprise Linux 9.4", "linux"), ("debian12", "Debian 12", "linux"),
    ("ubuntu24.04", "Ubuntu 24.04 LTS", "linux"), ("almalinux9", "AlmaLinux 9", "linux"),
    ("win2k22", "Microsoft Windows Server 2022", "windows"), ("win11", "Microsoft Windows 11", "windows"),
    ("linux-generic", "Generic Linux", "linux"), ("other", "Other OS", "other"),
]
# A fleet's status mix, in percent: mostly up or down, a few of the rest.
STATUS_MIX = {
    "up": 62, "down": 24, "paused": 2, "suspended": 3, "powering_up": 1, "powering_down": 1, "migrating": 1,
    "reboot_in_progress": 1, "image_locked": 2, "not_responding": 2, "unknown": 1,
}


@dataclass(frozen=True)
class Page:
    label: str
    kind: str  # "api" or "page"
    query: str  # the query string, "{cluster}" standing for the filtered cluster's id


PAGES = [
    Page("GET /api/v1/vms/", "api", ""),
    Page("GET /api/v1/vms/?status=up&cluster=", "api", "status=up&cluster={cluster}"),
    Page(f"GET /api/v1/vms/?q={SEARCH}", "api", f"q={SEARCH}"),
    Page("GET /vms/ (page)", "page", ""),
    Page("GET /vms/?status=up&cluster=", "page", "status=up&cluster={cluster}"),
    Page(f"GET /vms/?q={SEARCH}", "page", f"q={SEARCH}"),
]


PageFigures = inventory_api.PageFigures


def arguments_parse() -> argparse.Namespace:
    parser = inventory_api.arguments_parser(description=__doc__, counted="VM", sizes=DEFAULT_SIZES)
    parser.add_argument("--seed", type=int, default=1, help="random seed of the fleet (default 1)")
    return parser.parse_args()


def hosts_for(vms: int) -> int:
    return max(1, round(vms * FULL_HOSTS / FULL_VMS))


def catalogue_seed() -> None:
    """OS types and instance types (they outlive the fleet: nothing is cleared)."""
    from vms.models import InstanceType, OperatingSystem

    OperatingSystem.objects.bulk_create(
        OperatingSystem(short_id=short_id, name=name, family=family, source="osinfo")
        for short_id, name, family in OS_TYPES
    )
    InstanceType.objects.bulk_create(
        InstanceType(name=name, memory_mb=memory, cpu_sockets=1, cpu_cores=cores)
        for name, memory, cores in [("Small", 2048, 1), ("Medium", 4096, 2), ("Large", 8192, 2), ("XLarge", 16384, 4)]
    )


def owners_create() -> list[Any]:
    from django.contrib.auth import get_user_model

    User = get_user_model()
    return User.objects.bulk_create(User(username=f"user-{i:02}") for i in range(OWNERS))


def fleet_clear() -> None:
    from inventory.models import Network
    from vms.models import Vm, VmDisk, VmNic

    # Children first: disks and NICs PROTECT storage domains and networks,
    # VMs PROTECT clusters and data centers; then inventory_api's own order.
    for model in (VmDisk, VmNic, Vm, Network):
        model.objects.all().delete()
    inventory_api.inventory_clear()


def placement_of(host: Any, cluster_hosts: list[Any], rng: random.Random) -> dict:
    """What vms.services.placement.placement_record stores: a verdict for each
    host of the cluster, the chosen one first."""
    from inventory.choices import HostStatus

    reasons = []
    for candidate in [host] + [h for h in cluster_hosts if h.pk != host.pk]:
        if candidate.status != HostStatus.UP and candidate.pk != host.pk:
            reasons.append({"host": candidate.pk, "host_name": candidate.name, "passed": False,
                            "filter": "status", "reason": f"The host is {candidate.status}.", "score": None})
        else:
            score = round(rng.uniform(0.1, 0.9), 3)
            reasons.append({"host": candidate.pk, "host_name": candidate.name, "passed": True, "filter": None,
                            "reason": f"{int(score * 100)}% of its memory committed.", "score": score})
    return {"host": host.pk, "reasons": reasons,
            "summary": f"{host.name}: the least loaded of {len(cluster_hosts)} hosts."}


def fleet_seed(vms: int, owners: list[Any], rng: random.Random) -> None:
    """`vms` VMs over hosts_for(vms) hosts (and inventory_api's data centers,
    clusters and storage domains for them), each with 1-2 disks and a NIC."""
    from django.utils import timezone

    from inventory.choices import NetworkStatus, StorageDomainType
    from inventory.models import Cluster, Host, Network, StorageDomain
    from vms.choices import DiskStatus, VmOrigin, VmStatus
    from vms.models import InstanceType, OperatingSystem, Vm, VmDisk, VmNic

    inventory_api.inventory_seed(hosts_for(vms))
    now = timezone.now()
    hosts = list(Host.objects.order_by("pk"))
    clusters = {cluster.pk: cluster for cluster in Cluster.objects.all()}
    hosts_of_cluster: dict[int, list[Any]] = {}
    for host in hosts:
        hosts_of_cluster.setdefault(host.cluster_id, []).append(host)
    networks: dict[int, list[Any]] = {}
    for network in Network.objects.bulk_create(
        Network(name=name, data_center_id=dc, bridge=name, status=NetworkStatus.ACTIVE)
        for dc in {cluster.data_center_id for cluster in clusters.values()} for name in ("ovirtmgmt", "vm-prod")
    ):
        networks.setdefault(network.data_center_id, []).append(network)
    domains: dict[int, list[Any]] = {}
    for domain in StorageDomain.objects.order_by("pk"):
        domains.setdefault(domain.data_center_id, []).append(domain)
    data_domains = {dc: [d for d in ds if d.domain_type == StorageDomainType.DATA] or ds for dc, ds in domains.items()}
    os_types = list(OperatingSystem.objects.order_by("pk"))
    instance_types = list(InstanceType.objects.order_by("pk"))
    statuses = rng.choices(list(STATUS_MIX), weights=list(STATUS_MIX.values()), k=vms)

    vm_rows = []
    for i in range(vms):
        host = hosts[i % len(hosts)]
        cluster = clusters[host.cluster_id]
        status = statuses[i]
        external = i % 20 == 19
        placed = status != VmStatus.IMAGE_LOCKED
        role = ROLES[i % len(ROLES)]
        sockets, cores = rng.choice([(1, 1), (1, 2), (1, 4), (2, 2), (2, 4)])
        vm_rows.append(Vm(
            name=f"{role}-{i:05}", description=f"{role} server {i % 97} of team {i % 13}" if i % 3 else "",
            data_center_id=cluster.data_center_id, cluster=cluster, os_type=os_types[i % len(os_types)],
            instance_type=instance_types[i % len(instance_types)] if i % 4 == 0 else None,
            memory_mb=rng.choice([1024, 2048, 4096, 8192, 16384]), cpu_sockets=sockets, cpu_cores=cores,
            pinned_host=host if i % 50 == 0 else None, host=host if placed else None,
            status=status, status_reason="The host does not answer." if status == VmStatus.NOT_RESPONDING else "",
            status_changed_at=now, origin=VmOrigin.EXTERNAL if external else VmOrigin.PORTAL,
            owner=None if external or i % 4 == 3 else owners[i % len(owners)],
            placement=placement_of(host, hosts_of_cluster[cluster.pk], rng) if placed and not external else {},
        ))
    created = Vm.objects.bulk_create(vm_rows, batch_size=2000)
    disks, nics = [], []
    for i, vm in enumerate(created):
        for index in range(1 + i % 2):  # every other VM has a data disk
            domain = data_domains[vm.data_center_id][(i + index) % len(data_domains[vm.data_center_id])]
            volume = f"{vm.name}-disk{index}.qcow2"
            disks.append(VmDisk(
                vm=vm, index=index, size_gb=[20, 40, 100][i % 3] if index == 0 else 200, bootable=index == 0,
                storage_domain=domain, volume_name=volume, path=f"{domain.path}/{volume}",
                status=DiskStatus.LOCKED if vm.status == VmStatus.IMAGE_LOCKED else DiskStatus.OK,
            ))
        nics.append(VmNic(
            vm=vm, index=0, network=networks[vm.data_center_id][1], mac="56:6f:%02x:%02x:%02x:%02x" % (
                (i >> 24) & 255, (i >> 16) & 255, (i >> 8) & 255, i & 255),
            data_center_id=vm.data_center_id,
        ))
    VmDisk.objects.bulk_create(disks, batch_size=2000)
    VmNic.objects.bulk_create(nics, batch_size=2000)


def page_client(user: Any) -> Any:
    from django.test import Client

    # SERVER_NAME: the test client's default "testserver" is not in ALLOWED_HOSTS.
    client = Client(SERVER_NAME="localhost")
    client.force_login(user)
    return client


def page_url(page: Page) -> str:
    from django.urls import reverse

    from inventory.models import Cluster

    base = "/api/v1/vms/" if page.kind == "api" else reverse("vms:vm-list")
    if not page.query:
        return base
    # The filtered cluster: the first by name (every size has it).
    cluster = Cluster.objects.order_by("name").values_list("pk", flat=True).first()
    return f"{base}?{page.query.format(cluster=cluster)}"


PAGE_ROW = re.compile(rb'<td class="pf-v6-c-table__td" data-label="Name">')
PAGE_TOTAL = re.compile(rb"&nbsp;of&nbsp;<b>(\d+)</b>")


def page_measure(clients: dict[str, Any], page: Page) -> PageFigures:
    """Queries for one page, counted on a second request so that one-off
    caches (content types, URL resolver, templates) do not inflate the figure."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    url, client = page_url(page), clients[page.kind]
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    if response.status_code != 200:
        raise SystemExit(f"GET {url} answered {response.status_code}: {response.content[:500]!r}")
    if page.kind == "api":
        body = response.json()
        rows, count = len(body["results"]), body["count"]
    else:
        rows = len(PAGE_ROW.findall(response.content))
        total = PAGE_TOTAL.search(response.content)
        count = int(total.group(1)) if total else 0
    return PageFigures(queries=len(captured.captured_queries), page_size=rows, count=count,
                       sql=[query["sql"] for query in captured.captured_queries])


def latency_measure(clients: dict[str, Any], page: Page, repeats: int) -> list[float]:
    """Wall time of `repeats` whole requests, in milliseconds (middleware, the
    queries, serialisation or template rendering; not an HTTP server or the network)."""
    url, client = page_url(page), clients[page.kind]
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        client.get(url)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def sql_time_measure(clients: dict[str, Any], page: Page, repeats: int = 10) -> float:
    """Median time the database took over `repeats` requests, in milliseconds, as
    Django's debug cursor measures it (a separate loop: recording the queries
    slows the requests a little, so the timed loop records none)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    url, client = page_url(page), clients[page.kind]
    samples = []
    for _ in range(repeats):
        with CaptureQueriesContext(connection) as captured:
            client.get(url)
        samples.append(sum(float(query["time"]) for query in captured.captured_queries) * 1000)
    return statistics.median(samples)


def machine_describe(args: argparse.Namespace, fleet: str) -> None:
    import django
    import rest_framework
    from django.db import connection

    if connection.vendor == "sqlite":
        engine = f"SQLite {connection.Database.sqlite_version} (file in a temporary directory)"
    else:
        with connection.cursor() as cursor:
            cursor.execute("SELECT version()")
            engine = f"{cursor.fetchone()[0].split(',')[0]} (database {connection.settings_dict['NAME']})"
    cpuinfo = Path("/proc/cpuinfo")
    models = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
              if line.startswith("model name")] if cpuinfo.exists() else []
    cpu = models[0] if models else platform.processor() or "unknown CPU"
    largest = args.sizes[-1]
    print("VM list (API and page): SQL queries per page and latency")
    load = ", ".join(f"{figure:.2f}" for figure in os.getloadavg())
    print(f"  machine: {len(os.sched_getaffinity(0))} CPUs (nproc), {cpu}, {platform.system()} {platform.release()}; "
          f"load average {load} when the timing starts")
    print(f"  software: Python {platform.python_version()}, Django {django.__version__}, "
          f"DRF {rest_framework.__version__}")
    print(f"  database: {engine}")
    print(f"  fleet at {largest} VMs: {fleet}")
    print(f"  sizes (VMs): {', '.join(map(str, args.sizes))}, over "
          f"{', '.join(str(hosts_for(size)) for size in args.sizes)} hosts; bulk_create, seed {args.seed}; "
          f"the filtered cluster is the first by name")
    print(f"  queries counted on one warm request per page and size; latency: {args.repeats} in-process "
          f"requests per page at {largest} VMs, after the counted ones; DEBUG off; as a superuser "
          f"(APIClient for the API, test Client logged in for the page); sql ms: median time in the "
          f"database over 10 more requests, as Django's debug cursor records it")
    print()


def fleet_describe() -> str:
    from django.db.models import Count

    from inventory.models import Cluster, DataCenter, Host, StorageDomain
    from vms.models import Vm, VmDisk, VmNic

    vms = Vm.objects.count()
    placed = Vm.objects.exclude(placement={}).count()
    per_cluster = Host.objects.values("cluster").annotate(n=Count("pk")).order_by()
    hosts_per_cluster = sorted({row["n"] for row in per_cluster})
    return (f"{Host.objects.count()} hosts in {Cluster.objects.count()} clusters "
            f"({'-'.join(map(str, (hosts_per_cluster[0], hosts_per_cluster[-1])))} hosts each) "
            f"in {DataCenter.objects.count()} data centers, {StorageDomain.objects.count()} storage domains; "
            f"{vms} VMs ({Vm.objects.filter(status='up').count()} up) with {VmDisk.objects.count()} disks "
            f"and {VmNic.objects.count()} NICs, {OWNERS} owners, {len(OS_TYPES)} OS types; {placed} VMs keep "
            f"a placement with a verdict for each host of their cluster")


def results_print(figures: dict[str, dict[int, PageFigures]], latencies: dict[str, list[float]],
                  sql_times: dict[str, float], sizes: list[int], show_sql: bool) -> bool:
    """The table; returns True when every page's query count is constant."""
    largest = sizes[-1]
    query_heads = "".join(f"{'q@' + str(size):<8}" for size in sizes)
    print(f"{'page':<38}{'rows':>5}{'count':>7}  {query_heads}{'queries':<9}"
          f"{'median ms':>10}{'p95 ms':>9}{'sql ms':>8}  goal")
    all_constant, missed = True, []
    for page in PAGES:
        counts = [figures[page.label][size].queries for size in sizes]
        constant = len(set(counts)) == 1
        all_constant &= constant
        last = figures[page.label][largest]
        samples = latencies[page.label]
        median = statistics.median(samples)
        p95 = statistics.quantiles(samples, n=20, method="inclusive")[18]
        met = median < GOAL_MS
        if not met:
            missed.append(page.label)
        cells = "".join(f"{count:<8}" for count in counts)
        print(f"{page.label:<38}{last.page_size:>5}{last.count:>7}  {cells}"
              f"{'constant' if constant else 'GROWS':<9}{median:>10.1f}{p95:>9.1f}{sql_times[page.label]:>8.1f}  "
              f"{'met' if met else 'MISSED'}")
    print(f"\nrows and count at {largest} VMs; q@N: SQL queries for the page at N VMs; "
          f"goal: median under {GOAL_MS:.0f} ms per page at {largest} VMs: "
          + ("met by every page" if not missed else f"missed by {len(missed)} of {len(PAGES)} pages"))
    rows_by_size = {size: [figures[page.label][size].page_size for page in PAGES] for size in sizes}
    print("rows per page at each size (same order): "
          + "; ".join(f"{size}: {' '.join(map(str, rows))}" for size, rows in rows_by_size.items()))
    if show_sql:
        for page in PAGES:
            print(f"\n-- {page.label} at {largest} VMs")
            for sql in figures[page.label][largest].sql:
                print(f"{sql};")
    return all_constant


def main() -> int:
    args = arguments_parse()
    with tempfile.TemporaryDirectory(prefix="bench-vm-list-") as scratch:
        inventory_api.django_configure(args.database_url, Path(scratch))
        database_drop = inventory_api.database_create(on_server=args.database_url is not None)
        try:
            admin = inventory_api.admin_create()
            clients = {"api": inventory_api.api_client(admin), "page": page_client(admin)}
            catalogue_seed()
            owners = owners_create()
            figures: dict[str, dict[int, PageFigures]] = {page.label: {} for page in PAGES}
            for size in args.sizes:
                fleet_clear()
                fleet_seed(size, owners, random.Random(args.seed))
                inventory_api.statistics_refresh()
                for page in PAGES:
                    figures[page.label][size] = page_measure(clients, page)
            # The fleet now is the largest size: describe and time it.
            machine_describe(args, fleet_describe())
            latencies = {page.label: latency_measure(clients, page, args.repeats) for page in PAGES}
            sql_times = {page.label: sql_time_measure(clients, page) for page in PAGES}
            all_constant = results_print(figures, latencies, sql_times, args.sizes, args.sql)
        finally:
            database_drop()
    if not all_constant:
        print("\nFAIL: a query count grows with the fleet (a query per row?)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
