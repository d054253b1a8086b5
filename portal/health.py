"""What /healthz reports: the database, Redis and each host's connection.
Every check has a short timeout and turns failure into a message.

Anyone may ask (load balancers and monitors do, without logging in), but
host names, URIs and libvirt's error texts describe the infrastructure: an
anonymous caller gets the overall status and one code only (``public_view``)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import redis
from django.conf import settings
from django.db import connection

import hypervisor
from inventory.models import Host

CHECK_TIMEOUT_SECONDS = 2.0


def check_database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return {"ok": True}
    except Exception as error:
        return {"ok": False, "error": f"database unreachable: {error}"}


def check_redis(url: str | None = None) -> dict:
    url = url or settings.REDIS_URL
    client = redis.Redis.from_url(
        url, socket_timeout=CHECK_TIMEOUT_SECONDS, socket_connect_timeout=CHECK_TIMEOUT_SECONDS
    )
    try:
        client.ping()
        return {"ok": True}
    except redis.RedisError as error:
        return {"ok": False, "error": f"Redis at {url} is not answering: {error}"}
    finally:
        client.close()


def _check_host(name: str, uri: str) -> dict:
    try:
        hypervisor.check_connection(uri, timeout=CHECK_TIMEOUT_SECONDS)
        return {"name": name, "uri": uri, "ok": True}
    except hypervisor.HypervisorError as error:
        return {"name": name, "uri": uri, "ok": False, "error": error.message}


def check_hosts(hosts: list[tuple[str, str]]) -> list[dict]:
    if not hosts:
        return []
    with ThreadPoolExecutor(max_workers=min(8, len(hosts))) as pool:
        return list(pool.map(lambda host: _check_host(*host), hosts))


def health_report() -> dict:
    """Every check's result, plus the overall status and, when failing, the
    code of the first failing part (database, then Redis, then hosts)."""
    database = check_database()
    hosts = check_hosts(list(Host.objects.values_list("name", "uri"))) if database["ok"] else []
    redis_check = check_redis()
    failing = [code for code, ok in (
        ("database_unreachable", database["ok"]),
        ("redis_unreachable", redis_check["ok"]),
        ("host_unreachable", all(h["ok"] for h in hosts)),
    ) if not ok]
    summary = {"status": "failing", "code": failing[0]} if failing else {"status": "ok"}
    return {**summary, "database": database, "redis": redis_check, "hosts": hosts}


def public_view(report: dict) -> dict:
    """What anyone may read of a report: the status and its code, no names, URIs or errors."""
    return {key: report[key] for key in ("status", "code") if key in report}
