"""Benchmark of the inventory list endpoints: SQL queries per page and latency.

For each of /api/v1/{datacenters,clusters,hosts,storagedomains}/ it prints the
number of SQL queries one page (default page size) costs at each inventory
size, whether that number stays constant as the inventory grows, and the
median and p95 latency of that page at the largest size. Requests run
in-process through DRF's APIClient, as a superuser made here.

    .venv/bin/python bench/inventory_api.py                      # throwaway SQLite file
    .venv/bin/python bench/inventory_api.py --database-url postgres://u:pw@host/db

Exits 1 when an endpoint's query count grows with the inventory (the one hard
check), else 0. Timings are printed, never checked: they depend on the machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Run as a script from anywhere: the project's packages sit one level up.
# Django and project imports stay inside the functions below, because the
# environment has to be set (django_configure) before the settings are read.
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

ENDPOINTS = ["datacenters", "clusters", "hosts", "storagedomains"]
# The inventory the issue asks about: 500 hosts in 20 clusters in 4 data
# centers, with 40 storage domains. Smaller sizes scale every kind of object
# down with the hosts, so that every endpoint's page holds a different number
# of rows at some two sizes: a query per row then shows up as growth. (At 50
# and 500 hosts the host page is full, 50 rows, either way; hence the 10.)
FULL_HOSTS, FULL_CLUSTERS, FULL_DATA_CENTERS, FULL_STORAGE_DOMAINS = 500, 20, 4, 40
DEFAULT_SIZES = [10, 50, 500]


@dataclass
class PageFigures:
    """One endpoint's page at one inventory size."""

    queries: int
    page_size: int  # rows on the page
    count: int  # the "count" the paginated response reports
    sql: list[str]


def arguments_parser(*, description: str, counted: str, sizes: list[int]) -> argparse.ArgumentParser:
    """The options every list benchmark takes; ``counted`` names what a size counts."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--database-url",
        help="run on this database server instead of a throwaway SQLite file; the benchmark "
        "creates and drops its own database <name>_bench there, never touching <name>",
    )
    parser.add_argument(
        "--sizes", default=",".join(map(str, sizes)), type=lambda text: sorted({int(n) for n in text.split(",")}),
        help=f"{counted} counts to count queries at, comma-separated; latency is timed at the largest "
        f"(default {','.join(map(str, sizes))})",
    )
    parser.add_argument("--repeats", type=int, default=50, help="timed requests per page (default 50)")
    parser.add_argument("--sql", action="store_true", help="also print each page's SQL at the largest size")
    return parser


def arguments_parse() -> argparse.Namespace:
    return arguments_parser(description=__doc__, counted="host", sizes=DEFAULT_SIZES).parse_args()


def django_configure(database_url: str | None, scratch: Path) -> None:
    """Point the settings at a scratch database before Django reads them, so
    nothing under var/ is read or written (not the database, not the keys)."""
    from cryptography.fernet import Fernet

    os.environ["DATABASE_URL"] = database_url or f"sqlite:///{scratch / 'bench.sqlite3'}"
    os.environ["SECRET_KEY"] = "bench-" + "x" * 40
    os.environ["FIELD_ENCRYPTION_KEY"] = Fernet.generate_key().decode()
    # A port nothing listens on: the list endpoints must not need Redis, and
    # anything that tried would fail (or log a warning) instead of quietly working.
    os.environ["REDIS_URL"] = "redis://127.0.0.1:9/0"
    os.environ["DEBUG"] = "false"
    os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings"
    import django

    django.setup()


def database_create(on_server: bool) -> Callable[[], None]:
    """Migrate an empty database; returns what drops it again. A SQLite file
    lives in the scratch directory; on a server we make our own database the
    way Django's test runner does, so the one named in the URL is left alone."""
    from django.core.management import call_command
    from django.db import connection

    if not on_server:
        call_command("migrate", verbosity=0)
        return connection.close
    old_name = connection.settings_dict["NAME"]
    connection.settings_dict["TEST"]["NAME"] = f"{old_name}_bench"
    # autoclobber: a <name>_bench left by an interrupted run is ours to replace.
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    return lambda: connection.creation.destroy_test_db(old_name, verbosity=0)


def admin_create() -> Any:
    """An administrator as set-up makes one (core.accounts.admin_ensure):
    a Django superuser holding the SuperUser role system-wide."""
    from django.contrib.auth import get_user_model

    from core.accounts import superuser_role
    from core.models import Permission

    user = get_user_model().objects.create_user("bench-admin", is_staff=True, is_superuser=True)
    Permission.objects.create(role=superuser_role(), user=user)
    return user


def inventory_clear() -> None:
    from inventory.models import Cluster, DataCenter, Host, StorageDomain

    # Children first: clusters and data centers PROTECT their rows
    # (DataCenter.spm_host is SET_NULL, so deleting hosts unhooks it).
    for model in (Host, StorageDomain, Cluster, DataCenter):
        model.objects.all().delete()


def host_facts(index: int) -> dict[str, Any]:
    """What host_store_facts would have read from a typical two-socket server:
    a few hardware shapes, each with its CPUs split over two NUMA cells."""
    sockets, cores, threads, memory_mb = [
        (2, 16, 2, 262144), (2, 24, 2, 524288), (2, 32, 2, 1048576), (2, 8, 2, 131072),
    ][index % 4]
    total = sockets * cores * threads
    per_cell = total // 2
    return {
        "cpu_model": "Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz" if index % 2 else "AMD EPYC 7543 32-Core Processor",
        "cpu_sockets": sockets,
        "cpu_cores_per_socket": cores,
        "cpu_threads_per_core": threads,
        "cpu_total": total,
        "memory_mb": memory_mb,
        "numa_nodes": [
            {"index": cell, "cpus": list(range(cell * per_cell, (cell + 1) * per_cell)), "memory_mb": memory_mb // 2}
            for cell in range(2)
        ],
        "kvm": True,
        "domain_type": "kvm",
        "libvirt_version": "9.0.0",
        "qemu_version": "7.2.0",
    }


def host_status(index: int) -> tuple[str, str]:
    """Mostly up, with the few of each other state a real fleet has."""
    from inventory.choices import HostStatus

    mix = [HostStatus.UP] * 16 + [HostStatus.MAINTENANCE, HostStatus.NON_RESPONSIVE,
                                  HostStatus.CONNECTING, HostStatus.NON_OPERATIONAL]
    status = mix[index % len(mix)]
    reason = "" if status in (HostStatus.UP, HostStatus.MAINTENANCE) else "Connection refused (port 16509)"
    return status, reason


def inventory_seed(hosts: int) -> None:
    """`hosts` hosts, with clusters, data centers and storage domains in the
    issue's proportions (at least one of each), written with bulk_create."""
    from django.utils import timezone

    from inventory.choices import HostStatus, StorageDomainStatus, StorageDomainType, StorageType
    from inventory.models import Cluster, DataCenter, Host, StorageDomain

    def scaled(full: int) -> int:
        return max(1, round(full * hosts / FULL_HOSTS))

    now = timezone.now()
    data_centers = DataCenter.objects.bulk_create(
        DataCenter(name=f"dc-{i:02}", description="benchmark") for i in range(scaled(FULL_DATA_CENTERS))
    )
    clusters = Cluster.objects.bulk_create(
        Cluster(name=f"cluster-{i:02}", data_center=data_centers[i % len(data_centers)], cpu_model="Skylake-Server")
        for i in range(scaled(FULL_CLUSTERS))
    )
    host_rows = []
    for i in range(hosts):
        status, reason = host_status(i)
        host_rows.append(Host(
            name=f"host-{i:04}", cluster=clusters[i % len(clusters)], uri=f"qemu+tls://host-{i:04}.example.net/system",
            hostname=f"host-{i:04}.example.net", status=status, status_reason=reason, status_changed_at=now,
            facts_updated_at=now, last_seen_at=now, **host_facts(i),
        ))
    created_hosts = Host.objects.bulk_create(host_rows)
    # Each data center has an SPM, as a running one would: the host page
    # follows cluster -> data center -> spm_host to say is_spm.
    for data_center in data_centers:
        data_center.spm_host = next(
            (h for h in created_hosts if h.cluster.data_center_id == data_center.pk and h.status == HostStatus.UP),
            None,
        )
    DataCenter.objects.bulk_update(data_centers, ["spm_host"])
    kinds = [(StorageDomainType.DATA, StorageType.NFS)] * 3 + [(StorageDomainType.ISO, StorageType.NFS),
                                                               (StorageDomainType.EXPORT, StorageType.DIR)]
    tib = 1 << 40
    StorageDomain.objects.bulk_create(
        StorageDomain(
            name=f"sd-{i:02}", data_center=data_centers[i % len(data_centers)],
            domain_type=kinds[i % len(kinds)][0], storage_type=kinds[i % len(kinds)][1],
            path=f"/srv/storage/sd-{i:02}", status=StorageDomainStatus.ACTIVE,
            capacity_bytes=10 * tib, allocated_bytes=(i % 10) * tib, available_bytes=(10 - i % 10) * tib,
            refreshed_at=now,
        )
        for i in range(scaled(FULL_STORAGE_DOMAINS))
    )


def statistics_refresh() -> None:
    """On PostgreSQL autovacuum would have analysed a real inventory long ago;
    fresh bulk-loaded tables would otherwise be planned as empty. (Nothing
    runs ANALYZE on a production SQLite file, so neither do we there.)"""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def api_client(user: Any) -> Any:
    from rest_framework.test import APIClient

    # SERVER_NAME: the test client's default "testserver" is not in ALLOWED_HOSTS.
    client = APIClient(SERVER_NAME="localhost")
    client.force_authenticate(user)
    return client


def page_measure(client: Any, endpoint: str) -> PageFigures:
    """Queries for one page, counted on a second request so that one-off
    caches (content types, URL resolver) do not inflate the figure."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    url = f"/api/v1/{endpoint}/"
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    if response.status_code != 200:
        raise SystemExit(f"GET {url} answered {response.status_code}: {response.content[:500]!r}")
    body = response.json()
    return PageFigures(
        queries=len(captured.captured_queries), page_size=len(body["results"]), count=body["count"],
        sql=[query["sql"] for query in captured.captured_queries],
    )


def latency_measure(client: Any, endpoint: str, repeats: int) -> list[float]:
    """Wall time of `repeats` whole requests, in milliseconds (the queries,
    serialisation and JSON rendering; not an HTTP server or the network)."""
    url = f"/api/v1/{endpoint}/"
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        client.get(url)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def machine_describe(args: argparse.Namespace) -> None:
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
    print("Inventory list endpoints: SQL queries per page and latency")
    print(f"  machine: {len(os.sched_getaffinity(0))} CPUs (nproc), {cpu}, {platform.system()} {platform.release()}")
    print(f"  software: Python {platform.python_version()}, Django {django.__version__}, "
          f"DRF {rest_framework.__version__}")
    print(f"  database: {engine}")
    print(f"  inventory at {FULL_HOSTS} hosts: {FULL_DATA_CENTERS} data centers, {FULL_CLUSTERS} clusters, "
          f"{FULL_STORAGE_DOMAINS} storage domains (scaled with the hosts at other sizes)")
    print(f"  sizes (hosts): {', '.join(map(str, args.sizes))}; queries counted on one warm request "
          f"per endpoint and size; latency: {args.repeats} in-process requests per endpoint at "
          f"{args.sizes[-1]} hosts, after the counted ones; DEBUG off; as a superuser")
    print()


def results_print(figures: dict[str, dict[int, PageFigures]], latencies: dict[str, list[float]],
                  sizes: list[int], show_sql: bool) -> bool:
    """The table; returns True when every endpoint's query count is constant."""
    largest = sizes[-1]
    query_heads = "  ".join(f"q@{size:<4}" for size in sizes)
    print(f"{'endpoint':<26}{'page':>5}{'count':>7}  {query_heads}  {'queries':<9}{'median ms':>10}{'p95 ms':>9}")
    all_constant = True
    for endpoint in ENDPOINTS:
        counts = [figures[endpoint][size].queries for size in sizes]
        constant = len(set(counts)) == 1
        all_constant &= constant
        page = figures[endpoint][largest]
        samples = latencies[endpoint]
        p95 = statistics.quantiles(samples, n=20, method="inclusive")[18]
        cells = "  ".join(f"{count:<6}" for count in counts)
        print(f"{'/api/v1/' + endpoint + '/':<26}{page.page_size:>5}{page.count:>7}  {cells}  "
              f"{'constant' if constant else 'GROWS':<9}{statistics.median(samples):>10.1f}{p95:>9.1f}")
    print(f"\npage and count at {largest} hosts; q@N: SQL queries for the first page at N hosts")
    if show_sql:
        for endpoint in ENDPOINTS:
            print(f"\n-- /api/v1/{endpoint}/ at {largest} hosts")
            for sql in figures[endpoint][largest].sql:
                print(f"{sql};")
    return all_constant


def main() -> int:
    args = arguments_parse()
    with tempfile.TemporaryDirectory(prefix="bench-inventory-") as scratch:
        django_configure(args.database_url, Path(scratch))
        database_drop = database_create(on_server=args.database_url is not None)
        try:
            machine_describe(args)
            client = api_client(admin_create())
            figures: dict[str, dict[int, PageFigures]] = {endpoint: {} for endpoint in ENDPOINTS}
            for size in args.sizes:
                inventory_clear()
                inventory_seed(size)
                statistics_refresh()
                for endpoint in ENDPOINTS:
                    figures[endpoint][size] = page_measure(client, endpoint)
            # The inventory now is the largest size: time it.
            latencies = {endpoint: latency_measure(client, endpoint, args.repeats) for endpoint in ENDPOINTS}
            all_constant = results_print(figures, latencies, args.sizes, args.sql)
        finally:
            database_drop()
    if not all_constant:
        print("\nFAIL: a query count grows with the inventory (a query per row?)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
