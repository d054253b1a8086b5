"""The case bench/provisioning.py measures (skipped unless it runs it): on
the real libvirtd through the API and the real worker, a template of the
tiny guest whose disk holds PROVISIONING_BENCH_GIB GiB of allocated data
(not sparse: a pattern written with qemu-io before the template is made),
then thin VMs (the median of five, the sizes taking turns) and a clone VM from it, each timed from the API call until
its create job has started it (the VM is up). The disk's bandwidth is
measured with dd in the same storage domain. Figures go to the JSON file
PROVISIONING_BENCH_OUT."""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import time
from pathlib import Path

import pytest

from tests.vms.test_lifecycle_real import create_vm, job_of, succeeded, world  # noqa: F401 (world fixture)
from tests.jobs.test_worker import wait_for_status
from core.models import JobStatus
from vms.models import Template, Vm

SIZES = [int(size) for size in os.environ.get("PROVISIONING_BENCH_GIB", "").split(",") if size.strip()]
OUT = os.environ.get("PROVISIONING_BENCH_OUT", "")
GIB = 1024**3
THIN_RUNS = 5

pytestmark = [pytest.mark.real, pytest.mark.jobs, pytest.mark.django_db(transaction=True),
              pytest.mark.timeout(3600),
              pytest.mark.skipif(not SIZES or not OUT, reason="run by bench/provisioning.py")]


def dd_bandwidth(directory: str) -> float:
    """MB/s of a 1 GiB direct write in ``directory``, as dd reports it."""
    target = Path(directory) / f"dd-{os.getpid()}.tmp"
    try:
        result = subprocess.run(["dd", "if=/dev/zero", f"of={target}", "bs=4M", "count=256", "oflag=direct",
                                 "conv=fsync"], capture_output=True, text=True, check=True, timeout=600)
    finally:
        target.unlink(missing_ok=True)
    rate = re.search(r"([\d.,]+) ([kMG])B/s", result.stderr)
    value = float(rate.group(1).replace(",", "."))
    return value * {"k": 1 / 1000, "M": 1, "G": 1000}[rate.group(2)]


def timed_vm(api, world, name: str, template: Template, provisioning: str) -> float:
    started = time.monotonic()
    response = api.post("/api/v1/vms/", {"name": name, "cluster": world["cluster"].pk, "template": template.pk,
                                         "provisioning": provisioning, "nics": [], "start": True}, format="json")
    job = wait_for_status(job_of(response), JobStatus.ENDED, timeout=3000)
    assert job.status == JobStatus.SUCCEEDED, job.error
    return time.monotonic() - started


def template_holding(api, world, size: int, pid: int) -> Template:
    """A template of the tiny guest whose disk holds ``size`` GiB of allocated data."""
    source = create_vm(api, world, f"bench-src-{size}-{pid}", start=False,
                       disks=[{"image": world["image"], "storage_domain": world["domain"].pk, "size_gb": size + 1}])
    # Written after the guest's own blocks (the first 256 MiB stay as the image left them);
    # one write request is at most 2 GiB: 1 GiB each.
    writes = [arg for gib in range(size) for arg in ("-c", f"write -P 0x5a {256 + 1024 * gib}M 1G")]
    written = subprocess.run(["qemu-io", "-f", "qcow2", *writes, source.disks.get().path], capture_output=True,
                             text=True, timeout=3000)
    assert written.returncode == 0 and "error" not in written.stdout.lower(), written.stdout + written.stderr
    succeeded(api.post("/api/v1/templates/", {"vm": source.pk, "name": f"bench-{size}-{pid}",
                                              "storage_domain": world["domain"].pk}, format="json"), timeout=3000)
    return Template.objects.get(name=f"bench-{size}-{pid}")


def vm_remove(api, name: str, running: bool = True) -> None:
    vm = Vm.objects.get(name=name)
    if running:
        succeeded(api.post(f"/api/v1/vms/{vm.pk}/poweroff/"))
    succeeded(api.delete(f"/api/v1/vms/{vm.pk}/"), timeout=600)


def test_thin_and_clone_provisioning_times(api, world):
    pid = os.getpid()
    figures = {"dd_mb_per_s": dd_bandwidth(world["domain"].path), "sizes": {}}
    templates = {size: template_holding(api, world, size, pid) for size in SIZES}
    thins: dict[int, list[float]] = {size: [] for size in SIZES}
    # The sizes take turns, so the shared machine's changing load falls on each alike;
    # the data just written is on disk first, so no writeback runs under a measurement.
    os.sync()
    for run in range(THIN_RUNS):
        for size in SIZES:
            name = f"bench-thin-{size}-{run}-{pid}"
            thins[size].append(timed_vm(api, world, name, templates[size], "thin"))
            vm_remove(api, name)
    for size in SIZES:
        os.sync()
        name = f"bench-clone-{size}-{pid}"
        clone = timed_vm(api, world, name, templates[size], "clone")
        vm_remove(api, name)
        held = Path(templates[size].disks.get().path).stat().st_blocks * 512  # what the clone has to copy
        figures["sizes"][str(size)] = {"thin_s": statistics.median(thins[size]), "thin_runs_s": thins[size],
                                       "clone_s": clone, "template_bytes": held}
    Path(OUT).write_text(json.dumps(figures))
    for size, template in templates.items():
        succeeded(api.delete(f"/api/v1/templates/{template.pk}/"), timeout=600)
        vm_remove(api, f"bench-src-{size}-{pid}", running=False)
