"""The lifecycle jobs' work, run in-process against libvirt's test driver (the
fast lane's simulator): the service creates the job, the test runs its work
the way the worker would, and looks at the domain and the rows afterwards."""

import pytest

import hypervisor
from core.errors import Conflict
from core.models import Event
from hypervisor.storage import PoolSpec
from inventory.choices import HostStatus
from inventory.services.network import network_libvirt_name, network_spec
from inventory.services.storage import storage_pool_name
from tests.inventory.factories import simulated_host_uri
from tests.support.jobs import run_job as run
from tests.vms.factories import vm_world
from vms.choices import DiskStatus, VmStatus
from vms.models import Vm
from vms.services import lifecycle
from vms.services.requests import DiskRequest, NicRequest, VmRequest

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(tmp_path):
    """vm_world on simulated hosts: host1 is the SPM and has the data domain's pool."""
    world = vm_world(hosts=1)
    host = world["hosts"][0]
    host.uri = simulated_host_uri()
    host.save()
    world["data_center"].spm_host = host
    world["data_center"].save()
    domain = world["domain"]
    domain.path = str(tmp_path / "data")
    domain.save()
    hypervisor.ensure_dir_pool(host.uri, PoolSpec(name=storage_pool_name(domain), path=domain.path))
    hypervisor.ensure_bridge_network(host.uri, network_spec(world["network"]))
    yield world
    for summary in hypervisor.list_domains(host.uri):
        if summary.state != "shutoff":
            hypervisor.destroy_domain(host.uri, summary.uuid)
        hypervisor.undefine_domain(host.uri, summary.uuid)
    hypervisor.remove_pool(host.uri, storage_pool_name(domain))
    hypervisor.remove_network(host.uri, network_libvirt_name(world["network"]))


def request(world, **extra) -> VmRequest:
    fields = {
        "name": "web1", "cluster": world["cluster"], "os_type": world["os"], "memory_mb": 512,
        "disks": (DiskRequest(storage_domain=world["domain"], size_gb=1),),
        "nics": (NicRequest(network=world["network"]),), "start": True,
    }
    fields.update(extra)
    return VmRequest(**fields)


def test_create_makes_the_disk_defines_the_domain_and_starts_it(world, admin):
    vm, job = lifecycle.vm_create(request=request(world), user=admin)
    assert run(job).status == "succeeded"
    vm.refresh_from_db()
    disk = vm.disks.get()
    assert (vm.status, disk.status) == (VmStatus.UP, DiskStatus.OK)
    host = world["hosts"][0]
    assert hypervisor.domain_state(host.uri, str(vm.uuid)) == "running"
    xml = hypervisor.domain_xml(host.uri, str(vm.uuid))
    assert disk.path in xml and vm.nics.get().mac in xml


def test_suspend_resume_poweroff_and_delete(world, admin):
    vm, job = lifecycle.vm_create(request=request(world), user=admin)
    run(job)
    uri, uuid = world["hosts"][0].uri, str(Vm.objects.get().uuid)
    vm = Vm.objects.get()
    assert run(lifecycle.vm_suspend(vm=vm, user=admin)).status == "succeeded"
    assert (Vm.objects.get().status, hypervisor.domain_state(uri, uuid)) == (VmStatus.PAUSED, "paused")
    assert run(lifecycle.vm_resume(vm=Vm.objects.get(), user=admin)).status == "succeeded"
    assert Vm.objects.get().status == VmStatus.UP
    assert run(lifecycle.vm_poweroff(vm=Vm.objects.get(), user=admin)).status == "succeeded"
    assert (Vm.objects.get().status, hypervisor.domain_state(uri, uuid)) == (VmStatus.DOWN, "shutoff")
    path = Vm.objects.get().disks.get().path
    assert run(lifecycle.vm_delete(vm=Vm.objects.get(), user=admin)).status == "succeeded"
    assert not Vm.objects.exists()
    assert uuid not in {d.uuid for d in hypervisor.list_domains(uri)}
    assert not any(v.path == path for v in hypervisor.list_volumes(uri, storage_pool_name(world["domain"])))
    assert Event.objects.filter(code="vm.deleted").exists()


def test_a_failed_create_leaves_the_vm_down_saying_why_and_its_disks_illegal(world, admin):
    vm, job = lifecycle.vm_create(request=request(world), user=admin)
    world["hosts"][0].__class__.objects.update(status=HostStatus.NON_RESPONSIVE)  # the SPM is gone
    job = run(job)
    assert job.status == "failed" and "no SPM host up" in job.error
    vm.refresh_from_db()
    assert vm.status == VmStatus.DOWN
    assert vm.status_reason.startswith("Creation failed: Data center dc1 has no SPM host up")
    assert vm.disks.get().status == DiskStatus.ILLEGAL
    assert Event.objects.filter(code="vm.create.failed", severity="error").exists()
    assert lifecycle.vm_delete(vm=vm, user=admin).kind == "vm.delete"


def test_a_second_action_while_one_runs_is_refused_and_changes_nothing(world, admin):
    vm, job = lifecycle.vm_create(request=request(world, start=False), user=admin)
    run(job)
    lifecycle.vm_start(vm=Vm.objects.get(), user=admin)
    with pytest.raises(Conflict, match="busy with another job"):
        lifecycle.vm_poweroff(vm=Vm.objects.get(), user=admin)
    assert Vm.objects.get().status == VmStatus.POWERING_UP
    with pytest.raises(Conflict, match="VM web1 is powering up; it can start only when down"):
        lifecycle.vm_start(vm=Vm.objects.get(), user=admin)
