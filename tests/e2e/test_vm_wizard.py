"""The VM pages in Debian's Chromium: the wizard walked by hand (its script and
htmx swaps, the live summary), the pages at desktop and phone width, and the
whole path to a running VM on the real host (real libvirtd + QEMU, a real
Celery worker, real Redis, daphne).

Screenshots go to test-artifacts/browser/vm-*.png."""

from __future__ import annotations

import os
import shutil
import time

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from core.models import JobStatus
from inventory.choices import HostStatus, ImageContent, NetworkStatus, StorageDomainStatus
from inventory.models import Network
from inventory.services import host_refresh, storage_domain_attach
from inventory.services.images import image_upload
from inventory.services.spm import spm_review
from inventory.services.storage import storage_pool_name
from tests.e2e.conftest import screenshot
from tests.e2e.test_browser import log_in, outside_playwrights_loop, wait_until_live
from tests.inventory.factories import ClusterFactory, HostFactory, StorageDomainFactory
from tests.jobs.test_worker import wait_for_status
from vms.choices import VmStatus
from vms.models import OperatingSystem, Vm, VmDisk, VmNic
from vms.services.catalog import instance_types_seed, operating_systems_import
from vms.services.status import vm_set_status

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
GIB = 1024**3


def shot(page, name: str) -> None:
    """The whole page: PatternFly scrolls inside its main container, which a
    full-page screenshot does not unroll, so the window grows to fit it first."""
    size = page.viewport_size
    height = page.evaluate(
        "Math.max(...[...document.querySelectorAll('.pf-v6-c-page__main-container, main, body')]"
        ".map(el => el.scrollHeight + el.getBoundingClientRect().top))")
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], int(height) + 24)})
    try:
        screenshot(page, f"vm-{name}")
    finally:
        page.set_viewport_size(size)


def next_step(page, number: int) -> None:
    page.locator(".pf-v6-c-wizard__footer").get_by_role("button", name="Next").click()
    expect(page.locator(f'#vm-wizard[data-step="{number}"]')).to_be_visible()


# ---- the pages, as a user sees them (no hypervisor needed) -------------------

@pytest.fixture
def inventory():
    """A cluster of two simulated hosts with storage, a network, the OS catalogue
    (the system's osinfo-db) and a few VMs in different states."""
    operating_systems_import()
    instance_types_seed()
    cluster = ClusterFactory(name="prod", memory_overcommit_percent=150, scheduling_policy="evenly_distributed")
    facts = dict(status=HostStatus.UP, cpu_sockets=2, cpu_cores_per_socket=4, cpu_threads_per_core=2, cpu_total=16,
                 memory_mb=32768, facts_updated_at=timezone.now(),
                 numa_nodes=[{"index": 0, "cpus": list(range(8)), "memory_mb": 16384},
                             {"index": 1, "cpus": list(range(8, 16)), "memory_mb": 16384}])
    node1 = HostFactory(name="node1", cluster=cluster, **facts)
    HostFactory(name="node2", cluster=cluster, **{**facts, "memory_mb": 16384})
    HostFactory(name="node3", cluster=cluster, status=HostStatus.MAINTENANCE)
    domain = StorageDomainFactory(name="data1", data_center=cluster.data_center, status=StorageDomainStatus.ACTIVE,
                                  capacity_bytes=500 * GIB, allocated_bytes=120 * GIB, available_bytes=380 * GIB)
    network = Network.objects.create(name="vmnet", data_center=cluster.data_center, bridge="br-vmnet",
                                     status=NetworkStatus.ACTIVE)
    debian = OperatingSystem.objects.filter(short_id="debian11").first() or OperatingSystem.objects.get(pk="linux-generic")
    vms = []
    for n, (status, reason) in enumerate([
        (VmStatus.UP, ""), (VmStatus.DOWN, ""), (VmStatus.PAUSED, ""),
        (VmStatus.UNKNOWN, "Its domain is no longer on node1; it was removed outside the portal."),
        (VmStatus.POWERING_UP, ""),
    ]):
        vm = Vm.objects.create(
            name=f"web-{n + 1}", description="Front end" if n % 2 == 0 else "", cluster=cluster,
            data_center=cluster.data_center, os_type=debian, memory_mb=4096, memory_guaranteed_mb=2731,
            cpu_sockets=2, cpu_cores=2, status=status, status_reason=reason,
            host=node1 if status != VmStatus.DOWN else None, placement={
                "host": node1.pk, "summary": "Placed on node1: least loaded, memory 21 % and CPU 25 % after "
                                             "placement (evenly_distributed)",
                "reasons": [
                    {"host": node1.pk, "host_name": "node1", "passed": True, "filter": None,
                     "reason": "memory 21 % and CPU 25 % after placement", "score": 25.0},
                    {"host": node1.pk + 1, "host_name": "node2", "passed": True, "filter": None,
                     "reason": "memory 33 % and CPU 25 % after placement", "score": 33.33},
                    {"host": node1.pk + 2, "host_name": "node3", "passed": False, "filter": "status",
                     "reason": "host is in maintenance; only up hosts take new VMs", "score": None},
                ]})
        VmDisk.objects.create(vm=vm, index=0, size_gb=20, storage_domain=domain, bootable=True, status="ok",
                              volume_name=f"vm-{vm.uuid}-disk0.qcow2")
        VmNic.objects.create(vm=vm, index=0, network=network, data_center=cluster.data_center,
                             mac=f"56:6f:00:01:00:{n:02x}")
        vms.append(vm)
    return {"cluster": cluster, "vms": vms, "os": debian}


def test_the_wizard_fills_checks_and_explains_in_the_browser(page, admin, inventory):
    log_in(page)
    page.goto("/vms/")
    expect(page.get_by_role("heading", name="Virtual machines")).to_be_visible()
    shot(page, "list")
    page.get_by_role("link", name="New VM").click()

    # Step 1: find the OS by typing, as on a long list.
    expect(page.locator('#vm-wizard[data-step="1"]')).to_be_visible()
    page.fill("#id_basics-name", "web-new")
    page.fill("#vm-os-search", "debian 11")
    expect(page.locator("#id_basics-os_type option")).to_have_count(1, timeout=5000)
    expect(page.locator("#id_basics-os_type")).to_have_value(inventory["os"].short_id)
    shot(page, "wizard-1")
    next_step(page, 2)

    # Step 2: a preset fills the fields; a change makes it custom; the total follows.
    sizing = page.locator("#id_sizing-instance_type")
    sizing.select_option(label="Medium: 4096 MiB, 2 vCPUs")
    expect(page.locator("#id_sizing-memory_mb")).to_have_value("4096")
    expect(page.locator("[data-vcpu-number]")).to_have_text("2")
    page.fill("#id_sizing-cpu_cores", "2")
    expect(page.locator("[data-vcpu-number]")).to_have_text("4")
    expect(sizing).to_have_value("")
    expect(sizing.locator("option:checked")).to_have_text("Custom")
    page.fill("#id_sizing-memory_mb", "64")
    next_step(page, 2)  # refused, the same step again
    expect(page.locator('[data-field-error="memory_mb"]')).to_contain_text("needs at least")
    shot(page, "wizard-2-refused")
    page.fill("#id_sizing-memory_mb", "4096")
    next_step(page, 3)

    # Step 3: the profiles with what each does.
    expect(page.get_by_text("Adds a sound card (Intel HD Audio).")).to_be_visible()
    page.get_by_text("Desktop", exact=True).click()
    shot(page, "wizard-3")
    next_step(page, 4)

    # Step 4: a second disk, preallocated.
    page.get_by_role("button", name="Add a disk").click()
    expect(page.get_by_text("Disk 2", exact=True)).to_be_visible()
    page.select_option("#id_disks-1-allocation", "preallocated")
    expect(page.locator("#id_disks-0-storage_domain option:checked")).to_contain_text("380.0 GiB free")
    shot(page, "wizard-4")
    next_step(page, 5)

    # Step 5: the summary follows the answers live.
    summary = page.locator("#wizard-summary")
    expect(summary.locator('[data-placement-host="node1"]')).to_be_visible()
    expect(summary).to_contain_text("This VM 4.0 GiB")
    shot(page, "wizard-5")
    page.select_option("#id_finish-host", label="node3")
    expect(summary).to_contain_text("No host can take this VM now.", timeout=5000)
    expect(summary.locator('[data-host-verdict="node1"]')).to_contain_text("Refused by pinned")
    shot(page, "wizard-5-pinned")
    page.select_option("#id_finish-host", label="node2")
    expect(summary.locator('[data-placement-host="node2"]')).to_be_visible(timeout=5000)

    # Back and forth through the steps list keeps everything.
    page.locator(".pf-v6-c-wizard__nav").get_by_role("button", name="Memory and CPUs").click()
    expect(page.locator("#id_sizing-cpu_cores")).to_have_value("2")
    page.locator(".pf-v6-c-wizard__nav").get_by_role("button", name="Console and summary").click()
    expect(page.locator("#id_finish-host")).to_have_value(str(inventory["cluster"].hosts.get(name="node2").pk))


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_the_vm_pages_fit_a_desktop_and_a_phone(browser, portal_server, admin, inventory, viewport):
    context = browser.new_context(base_url=portal_server.url, viewport=DESKTOP if viewport == "desktop" else PHONE)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        log_in(page)
        page.goto("/vms/")
        expect(page.get_by_role("link", name="web-1")).to_be_visible()
        shot(page, f"list-{viewport}")
        page.select_option("#vm-filter-status", "paused")
        expect(page.get_by_role("link", name="web-1")).to_have_count(0)
        expect(page.get_by_role("link", name="web-3")).to_be_visible()
        assert "status=paused" in page.url

        up = inventory["vms"][0]
        page.goto(f"/vms/{up.pk}/")
        expect(page.get_by_role("heading", name="web-1")).to_be_visible()
        expect(page.get_by_role("button", name="Shut down")).to_be_visible()
        shot(page, f"detail-{viewport}")

        page.goto(f"/vms/{inventory['vms'][1].pk}/run-once/")
        shot(page, f"run-once-{viewport}")

        page.goto("/vms/new/")
        shot(page, f"wizard-1-{viewport}")
        page.fill("#id_basics-name", "phone-vm")
        for number in (2, 3, 4, 5):
            next_step(page, number)
            shot(page, f"wizard-{number}-{viewport}")
        widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert widths[0] <= widths[1] + 1, f"the page scrolls sideways: {widths}"
    finally:
        context.close()
    assert not errors, errors


def test_a_vm_status_label_follows_the_websocket(page, admin, inventory):
    """A status change (core.status) redraws the VM's label, reason and host link where they are shown."""
    vm = inventory["vms"][1]
    log_in(page)
    page.goto("/vms/")
    wait_until_live(page)
    cell = page.locator(f'tbody [data-live-object="vm:{vm.pk}"] [data-status]')
    expect(cell).to_have_text("Down")
    host = inventory["vms"][0].host
    outside_playwrights_loop(vm_set_status, vm=vm, status=VmStatus.UP, host_id=host.pk)
    expect(cell).to_have_attribute("data-status", "up", timeout=10_000)
    expect(cell).to_have_text("Up")
    expect(page.locator(f"#vm-{vm.pk}-host")).to_have_text(host.name, timeout=10_000)

    page.goto(f"/vms/{vm.pk}/")
    wait_until_live(page)
    title = page.locator(f'.portal-title-status[data-live-object="vm:{vm.pk}"] [data-status]')
    outside_playwrights_loop(vm_set_status, vm=vm, status=VmStatus.PAUSED, reason="paused for a backup")
    expect(title).to_have_text("Paused", timeout=10_000)
    expect(page.locator(f'.vm-status[data-live-object="vm:{vm.pk}"] [data-live-reason]')).to_have_text(
        "paused for a backup", timeout=10_000)


# ---- the whole path on the real host ------------------------------------------

@pytest.fixture
def real_world(libvirtd, worker, guest_image, admin, tmp_path):
    """The local libvirtd as an up host (read by a refresh job), the SPM of its
    data center, a data domain attached through the worker, and the tiny guest
    uploaded onto it as a disk image. Whatever happens, nothing is left on the
    daemon afterwards (it is shared with other sessions)."""
    operating_systems_import()
    instance_types_seed()
    cluster = ClusterFactory(name="local")
    host = HostFactory(name="localhost", cluster=cluster, uri=libvirtd)
    # Pools are named after the domain's id: one no other session's test database hands out.
    domain = StorageDomainFactory(id=900_000 + os.getpid() % 100_000, name="local-data",
                                  data_center=cluster.data_center, path=str(tmp_path / "data"))
    (tmp_path / "data").mkdir()
    try:
        job = wait_for_status(outside_playwrights_loop(host_refresh, host=host, user=admin), JobStatus.ENDED, 90)
        assert job.status == JobStatus.SUCCEEDED, job.error
        outside_playwrights_loop(spm_review, data_center=cluster.data_center)
        job = wait_for_status(outside_playwrights_loop(storage_domain_attach, domain=domain, user=admin),
                              JobStatus.ENDED, 90)
        assert job.status == JobStatus.SUCCEEDED, job.error
        domain.refresh_from_db()
        upload = tmp_path / "guest.qcow2"
        shutil.copy(guest_image, upload)
        image = outside_playwrights_loop(image_upload, storage_domain=domain, name="tiny-guest",
                                         content=ImageContent.DISK, uploaded_path=str(upload), user=admin)
        yield {"cluster": cluster, "host": host, "domain": domain, "image": image}
    finally:
        for vm in Vm.objects.filter(cluster=cluster):
            _virsh(libvirtd, "destroy", str(vm.uuid))
            _virsh(libvirtd, "undefine", str(vm.uuid), "--nvram")
        for pool in (storage_pool_name(domain), f"{storage_pool_name(domain)}-images"):
            _virsh(libvirtd, "pool-destroy", pool)
            _virsh(libvirtd, "pool-undefine", pool)


def _virsh(uri: str, *args: str) -> None:
    import subprocess

    subprocess.run(["virsh", "-c", uri, *args], capture_output=True, timeout=60)


@pytest.mark.real
@pytest.mark.jobs
def test_it_walks_the_wizard_to_a_running_vm_on_the_real_host(page, admin, real_world):
    log_in(page)
    wait_until_live(page)
    page.goto("/vms/new/")
    page.fill("#id_basics-name", "e2e-guest")
    page.fill("#vm-os-search", "generic linux")
    expect(page.locator("#id_basics-os_type")).to_have_value("linux-generic", timeout=5000)
    shot(page, "real-1")
    next_step(page, 2)
    page.select_option("#id_sizing-instance_type", label="Tiny: 512 MiB, 1 vCPU")
    expect(page.locator("[data-vcpu-number]")).to_have_text("1")
    shot(page, "real-2")
    next_step(page, 3)
    shot(page, "real-3")
    next_step(page, 4)
    page.select_option("#id_disks-0-image", label=f"tiny-guest (qcow2, {_gib(real_world['image'])})")
    page.fill("#id_disks-0-size_gb", "")
    shot(page, "real-4")
    next_step(page, 5)
    expect(page.locator('#wizard-summary [data-placement-host="localhost"]')).to_be_visible()
    expect(page.locator("#id_finish-start")).to_be_checked()
    shot(page, "real-5")
    page.get_by_role("button", name="Create VM").click()

    # The VM's page, its creation job moving, then the VM up with its screen.
    expect(page.get_by_role("heading", name="e2e-guest")).to_be_visible(timeout=10_000)
    vm = Vm.objects.get(name="e2e-guest")
    shot(page, "real-creating")
    status = page.locator(f'.portal-title-status[data-live-object="vm:{vm.pk}"] [data-status]')
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        vm.refresh_from_db()
        if vm.status not in (VmStatus.IMAGE_LOCKED, VmStatus.POWERING_UP):
            break
        time.sleep(0.5)
    job = vm_job(vm)
    assert vm.status == VmStatus.UP, f"VM is {vm.status} ({vm.status_reason}); job: {job.status} {job.error}"
    expect(status).to_have_attribute("data-status", "up", timeout=15_000)
    image = page.locator("img[data-vm-screen]")
    expect(image).to_be_visible(timeout=15_000)
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle(), timeout=15_000)
    time.sleep(6)  # the guest draws its console; the thumbnail refreshes every 5 s
    shot(page, "real-running")
    response = page.request.get(f"/vms/{vm.pk}/screenshot.png")
    assert response.status == 200 and response.headers["content-type"] == "image/png"
    assert response.body()[:8] == b"\x89PNG\r\n\x1a\n"

    # An action from the page: power off, followed to the end on the same page.
    page.get_by_role("button", name="Power off").click()
    expect(page.get_by_text("Power off VM e2e-guest: job")).to_be_visible()
    expect(status).to_have_attribute("data-status", "down", timeout=60_000)
    expect(page.get_by_role("button", name="Start")).to_be_visible(timeout=15_000)
    expect(page.get_by_text("No screen while the VM is down.")).to_be_visible()
    shot(page, "real-powered-off")


def vm_job(vm):
    from core.models import Job

    return Job.objects.filter(target_type__model="vm", target_id=str(vm.pk)).order_by("-pk").first()


def _gib(image) -> str:
    return f"{image.virtual_size_bytes / GIB:.1f} GiB"


