"""A portal VM live-migrates between the namespaced hosts through the API:
the guest keeps counting its heartbeat (no reboot), the job records the
downtime, the VM's host follows; with the destination's daemon stopped the
job fails with libvirt's reason and the VM stays up on the source."""

from __future__ import annotations

import re
import uuid

import pytest

from core.models import Event, Job, JobStatus
from inventory import services
from inventory.choices import HostStatus, StorageDomainType
from inventory.models import Host, Image, StorageDomain
from tests.inventory.factories import ClusterFactory
from tests.inventory.test_images import upload
from tests.plugins.multihost import SHARED_DIR
from tests.plugins.real import REPO, wait_for_text
from tests.support.jobs import run_job
from vms.choices import VmStatus
from vms.models import Vm
from vms.services.catalog import operating_systems_import

pytestmark = [pytest.mark.multihost, pytest.mark.django_db, pytest.mark.timeout(300)]


def ran(response) -> Job:
    assert response.status_code == 202, response.content
    return run_job(Job.objects.get(pk=response.json()["job"]["id"]))


def serial_log(host: Host, vm: Vm):
    """Where the host's QEMU writes the guest's serial console (its private /var/log/libvirt)."""
    return REPO / "var" / "testhosts" / host.name / "log" / "qemu" / f"{vm.uuid}-serial.log"


def last_beat(text: str) -> int:
    beats = re.findall(r"GUEST HEARTBEAT (\d+)", text)
    return int(beats[-1]) if beats else 0


@pytest.fixture
def running_vm(testhost, admin, api, guest_image):
    cluster = ClusterFactory(name=f"mig-{uuid.uuid4().hex[:6]}")
    for name in ("alpha", "beta"):
        host, job = services.host_add(name=name, cluster=cluster, uri=testhost(name).uri, user=admin)
        assert run_job(job).status == JobStatus.SUCCEEDED and Host.objects.get(pk=host.pk).status == HostStatus.UP
    shared = SHARED_DIR / f"portal-{uuid.uuid4().hex[:8]}"
    domain = StorageDomain.objects.create(name="shared", data_center=cluster.data_center, path=str(shared),
                                          domain_type=StorageDomainType.DATA)
    assert run_job(services.storage_domain_attach(domain=domain, user=admin)).status == JobStatus.SUCCEEDED
    response = upload(api, guest_image, domain=domain, name="tiny")
    assert response.status_code == 201, response.content
    operating_systems_import(roots=[])
    created = api.post("/api/v1/vms/", {
        "name": "mover", "cluster": cluster.pk, "os_type": "linux-generic", "memory_mb": 512,
        "memory_guaranteed_mb": 512, "console": "none", "start": True,
        "disks": [{"image": Image.objects.get(pk=response.json()["id"]).pk, "storage_domain": domain.pk}],
    }, format="json")
    assert ran(created).status == JobStatus.SUCCEEDED
    vm = Vm.objects.select_related("host").get(pk=created.json()["vm"]["id"])
    wait_for_text(serial_log(vm.host, vm), "GUEST HEARTBEAT 1", 90)
    yield vm
    for host in Host.objects.filter(cluster=cluster):
        testhost(host.name)  # answering again, whatever a test stopped
    vm.refresh_from_db()
    if vm.status in VmStatus.RUNNING:
        ran(api.post(f"/api/v1/vms/{vm.pk}/poweroff/"))
    ran(api.delete(f"/api/v1/vms/{vm.pk}/"))
    # Pools are named after the domain's id, which the next test's database reuses.
    assert api.delete(f"/api/v1/images/{response.json()['id']}/").status_code == 204
    assert run_job(services.storage_domain_detach(domain=domain, user=admin)).status == JobStatus.SUCCEEDED


def test_a_vm_migrates_there_and_back_through_the_api_without_rebooting(api, running_vm):
    vm = running_vm
    first, other = vm.host, Host.objects.exclude(pk=vm.host_id).get(cluster=vm.cluster)
    beat = last_beat(serial_log(first, vm).read_text(errors="replace"))

    job = ran(api.post(f"/api/v1/vms/{vm.pk}/migrate/", {}, format="json"))  # the scheduler picks: the other one

    assert job.status == JobStatus.SUCCEEDED, job.error
    assert api.get(f"/api/v1/vms/{vm.pk}/").json()["host"] == other.pk
    assert api.get(f"/api/v1/vms/{vm.pk}/").json()["status"] == "up"
    figures = api.get(f"/api/v1/jobs/{job.pk}/").json()["result"]
    print(f"\n{first.name}->{other.name}: {figures['total_ms']} ms, downtime {figures['downtime_ms']} ms")
    assert figures["downtime_ms"] is not None and 0 <= figures["downtime_ms"] < 5000
    assert figures["total_ms"] > 0 and figures["data_bytes"] > 0
    arrived = serial_log(other, vm)
    wait_for_text(arrived, f"GUEST HEARTBEAT {beat + 2}", 30)
    assert "GUEST READY" not in arrived.read_text(errors="replace"), "the guest rebooted on arrival"

    back = ran(api.post(f"/api/v1/vms/{vm.pk}/migrate/", {"host": first.pk}, format="json"))
    assert back.status == JobStatus.SUCCEEDED, back.error
    vm.refresh_from_db()
    assert (vm.host_id, vm.status) == (first.pk, VmStatus.UP)
    assert Event.objects.filter(code="vm.migrated").count() == 2


def test_a_migration_to_a_stopped_daemon_fails_and_the_vm_stays_up_on_the_source(api, running_vm, testhost):
    vm = running_vm
    source, other = vm.host, Host.objects.exclude(pk=vm.host_id).get(cluster=vm.cluster)
    testhost(other.name).stop_daemon()

    job = ran(api.post(f"/api/v1/vms/{vm.pk}/migrate/", {"host": other.pk}, format="json"))

    assert job.status == JobStatus.FAILED
    print(f"\nthe job says: {job.error}")
    assert "10.231." in job.error or "connect" in job.error.lower()
    vm.refresh_from_db()
    assert (vm.host_id, vm.status) == (source.pk, VmStatus.UP)
    assert Event.objects.filter(code="vm.migrate.failed", message__contains=job.error[:40]).exists()
    log = serial_log(source, vm)
    wait_for_text(log, f"GUEST HEARTBEAT {last_beat(log.read_text(errors='replace')) + 1}", 30)


def test_maintenance_moves_both_guests_hands_over_the_spm_and_ends_in_maintenance(api, running_vm):
    first = running_vm
    source = first.host
    second_id = ran(api.post("/api/v1/vms/", {
        "name": "mover-2", "cluster": first.cluster_id, "os_type": "linux-generic", "memory_mb": 512,
        "memory_guaranteed_mb": 512, "console": "none", "start": True,
        "disks": [{"image": first.disks.get().image_id, "storage_domain": first.disks.get().storage_domain_id}],
    }, format="json")).target_id
    second = Vm.objects.get(pk=second_id)
    assert second.host_id == source.pk  # policy none: hosts in name order, both on the first
    wait_for_text(serial_log(source, second), "GUEST HEARTBEAT 1", 90)
    data_center = source.cluster.data_center
    data_center.spm_host = source
    data_center.save()

    answer = api.post(f"/api/v1/hosts/{source.pk}/maintenance/")
    assert answer.status_code == 202, answer.content
    assert len(answer.json()["jobs"]) == 2
    for job in answer.json()["jobs"]:
        assert run_job(Job.objects.get(pk=job["id"])).status == JobStatus.SUCCEEDED

    source.refresh_from_db()
    data_center.refresh_from_db()
    assert source.status == HostStatus.MAINTENANCE
    assert data_center.spm_host_id not in (None, source.pk)
    for vm in (first, second):
        vm.refresh_from_db()
        assert (vm.status, vm.host_id) == (VmStatus.UP, data_center.spm_host_id)
        wait_for_text(serial_log(vm.host, vm), "GUEST HEARTBEAT", 30)
    assert api.post(f"/api/v1/vms/{second.pk}/migrate/", {"host": source.pk}, format="json").status_code == 409
    ran(api.post(f"/api/v1/vms/{second.pk}/poweroff/"))
    ran(api.delete(f"/api/v1/vms/{second.pk}/"))
