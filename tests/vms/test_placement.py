"""The placement service: what a VM demands, what its cluster's hosts already
carry, and the claim a start or a create makes on its host (the parallel case
runs in tests/vms/test_parallel_placement.py, jobs lane)."""

import pytest

from core.errors import Conflict
from core.models import Job, JobStatus
from inventory.choices import HostStatus
from inventory.models import Host
from tests.vms.factories import vm_world
from vms.choices import DiskStatus, VmStatus
from vms.models import Vm
from vms.selectors import hosts_commitment
from vms.services import lifecycle
from vms.services.placement import demand_of, placement_preview
from vms.services.requests import DiskRequest, NicRequest, VmRequest, vm_request_clean

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db):
    return vm_world()


def request(world, **extra) -> VmRequest:
    fields = {
        "name": "web1", "cluster": world["cluster"], "os_type": world["os"], "memory_mb": 1024,
        "cpu_sockets": 2, "cpu_cores": 2, "cpu_threads": 1,
        "disks": (DiskRequest(storage_domain=world["domain"], size_gb=1),),
        "nics": (NicRequest(network=world["network"]),),
    }
    fields.update(extra)
    return VmRequest(**fields)


def made_and_down(vm: Vm) -> Vm:
    """As if its creation job had run and left it down."""
    vm.disks.update(status=DiskStatus.OK)
    Job.objects.filter(target_id=str(vm.pk)).update(status=JobStatus.SUCCEEDED)
    Vm.objects.filter(pk=vm.pk).update(status=VmStatus.DOWN)
    return Vm.objects.get(pk=vm.pk)


def committed_mb(host: Host) -> int:
    commitment = hosts_commitment([host.pk]).get(host.pk)
    return commitment.memory_mb if commitment else 0


def test_a_request_and_the_vm_made_from_it_demand_the_same(world, admin):
    asked = vm_request_clean(request(world, host=world["hosts"][1]))
    vm, _ = lifecycle.vm_create(request=asked, user=admin)
    assert demand_of(vm) == demand_of(asked)
    assert demand_of(vm).vcpus == vm.vcpus == 4
    assert demand_of(vm).pinned_host_id == world["hosts"][1].pk


def test_a_vm_created_to_start_commits_its_host_from_its_creation(world, admin):
    vm, job = lifecycle.vm_create(request=request(world, start=True), user=admin)
    assert (vm.status, job.args) == (VmStatus.IMAGE_LOCKED, [True])
    assert committed_mb(vm.host) == 1024
    lifecycle.vm_create(request=request(world, name="web2", start=False, host=vm.host), user=admin)
    assert committed_mb(vm.host) == 1024, "a VM created to stay down commits nothing"


def test_a_start_moves_the_vm_to_its_chosen_host_at_once_and_its_job_keeps_where_it_was(world, admin):
    first, second = world["hosts"]
    vm, _ = lifecycle.vm_create(request=request(world, host=first), user=admin)
    Vm.objects.filter(pk=vm.pk).update(pinned_host=None)
    vm = made_and_down(vm)
    Host.objects.filter(pk=first.pk).update(status=HostStatus.MAINTENANCE)

    job = lifecycle.vm_start(vm=vm, user=admin)

    vm.refresh_from_db()
    assert (vm.status, vm.host_id) == (VmStatus.POWERING_UP, second.pk)
    assert vm.placement["host"] == second.pk
    assert (job.kind, job.args) == ("vm.start", [first.pk, {}])
    assert committed_mb(second) == 1024 and committed_mb(first) == 0


def test_a_refused_start_changes_nothing_but_the_placement_saying_why(world, admin):
    vm, _ = lifecycle.vm_create(request=request(world), user=admin)
    vm = made_and_down(vm)
    Host.objects.filter(cluster=world["cluster"]).update(status=HostStatus.MAINTENANCE)

    with pytest.raises(Conflict, match="No host can run VM web1: "):
        lifecycle.vm_start(vm=vm, user=admin)

    vm.refresh_from_db()
    assert vm.status == VmStatus.DOWN and vm.placement["host"] is None
    assert not Job.objects.filter(kind="vm.start").exists()


def test_the_preview_places_the_cleaned_request_and_counts_it_against_the_cluster(world, admin):
    lifecycle.vm_create(request=request(world, name="running", start=True), user=admin)

    preview = placement_preview(request=request(world), user=admin)

    assert preview.vcpus == 4 and preview.request.memory_guaranteed_mb == 1024  # cleaned: defaults filled in
    assert preview.placement.host_id in {host.pk for host in world["hosts"]}
    assert [row["chosen"] for row in preview.placement_rows].count(True) == 1
    assert (preview.commitment.committed, preview.commitment.after) == (1024, 2048)
    assert preview.commitment.vcpus_after == 8
