"""Live migration's rules, on the fast lane: who may, from which status, to
which host (the scheduler's filters, and never the VM's own host), the
per-host slots, and cancelling (a migration that really runs is the
multihost lane's, tests/multihost/test_vm_migration.py)."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from rest_framework.test import APIClient

from core.jobs import JobCancelled, JobRun, job_create
from core.models import Event, Job, JobStatus, Permission, Role
from tests.support.jobs import run_job
from tests.vms.factories import vm_world
from tests.vms.test_maintenance import running
from vms.choices import Optimization, VmStatus
from vms.migration_policy import MIGRATION_POLICIES, migration_options
from vms.services import migration
from vms.services.migration import vm_migrate

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return vm_world(hosts=3)


@pytest.fixture
def vm(world):
    return running(world, "web1", world["hosts"][0], 1024)


def migrate(api, vm, **body):
    return api.post(f"/api/v1/vms/{vm.pk}/migrate/", body, format="json")


def test_it_claims_the_vm_and_starts_a_job_towards_the_schedulers_choice(api, vm, world):
    answer = migrate(api, vm)
    assert answer.status_code == 202, answer.content
    job = Job.objects.get(pk=answer.json()["job"]["id"])
    vm.refresh_from_db()
    assert vm.status == VmStatus.MIGRATING and vm.host_id == world["hosts"][0].pk  # still on the source
    source, destination, policy = job.args
    assert source == world["hosts"][0].pk and destination != source
    assert policy == vm.cluster.migration_policy
    assert [step["name"] for step in job.steps][0] == migration.WAIT_STEP
    assert answer.json()["job"]["cancellable"] is True


def test_an_explicit_destination_and_policy_are_kept(api, vm, world):
    target = world["hosts"][2]
    job = Job.objects.get(pk=migrate(api, vm, host=target.pk, policy="post_copy").json()["job"]["id"])
    assert job.args[1:] == [target.pk, "post_copy"] and target.name in job.title


@pytest.mark.parametrize("status", [VmStatus.DOWN, VmStatus.PAUSED, VmStatus.MIGRATING])
def test_only_a_vm_that_is_up_migrates(api, vm, status):
    vm.status = status
    vm.save()
    answer = migrate(api, vm)
    assert answer.status_code == 409 and "only a VM that is up can migrate" in answer.json()["detail"]
    assert not Job.objects.exists()


def test_a_high_performance_vm_is_refused_with_what_to_do(api, world):
    pinned = running(world, "hpc", world["hosts"][0], 1024, optimization=Optimization.HIGH_PERFORMANCE)
    answer = migrate(api, pinned)
    assert answer.status_code == 409 and "Shut it down and start it on another host" in answer.json()["detail"]


def test_its_own_host_is_refused(api, vm, world):
    answer = migrate(api, vm, host=world["hosts"][0].pk)
    assert answer.status_code == 409 and "already runs on host1" in answer.json()["detail"]


def test_a_destination_without_room_is_refused_with_the_schedulers_reason(api, vm, world):
    running(world, "big", world["hosts"][1], 8000)
    answer = migrate(api, vm, host=world["hosts"][1].pk)
    assert answer.status_code == 409 and "needs 1024 MiB" in answer.json()["detail"]
    vm.refresh_from_db()
    assert vm.status == VmStatus.UP and not Job.objects.exists()


def test_no_other_host_at_all_is_refused(api, vm, world):
    for host in world["hosts"][1:]:
        host.delete()
    answer = migrate(api, vm)
    assert answer.status_code == 409 and "the VM runs here now" in answer.json()["detail"]


def test_bad_input_is_a_400_naming_the_field(api, vm):
    assert migrate(api, vm, policy="fastest").status_code == 400
    assert "host" in migrate(api, vm, host=999999).json()


def test_its_owner_may_not_choose_hosts_but_an_admin_of_the_vm_may(vm, bob):
    vm.owner = bob
    vm.save()
    as_bob = APIClient()
    as_bob.force_authenticate(bob)
    assert migrate(as_bob, vm).status_code == 403
    Permission.objects.create(role=Role.objects.create(name="VmMover", actions=["view", "migrate"]), user=bob,
                              object_type=ContentType.objects.get_for_model(vm), object_id=str(vm.pk))
    assert migrate(as_bob, vm).status_code == 202


def test_a_queued_migration_waits_while_the_host_has_two_leaving(vm, world, admin):
    source = world["hosts"][0]
    for n in range(2):
        other = running(world, f"other{n}", source, 256)
        job_create(title="busy", task="vm.migrate", steps=["x"], target=other, user=admin,
                   task_args=(source.pk, world["hosts"][1].pk, "minimal_downtime"), cancellable=True)
    Job.objects.filter(kind="vm.migrate").update(status=JobStatus.RUNNING,
                                                  result={"source": source.pk, "destination": world["hosts"][1].pk})
    waiting = job_create(title="third", task="vm.migrate", steps=[migration.WAIT_STEP], target=vm, user=admin,
                         task_args=(source.pk, world["hosts"][2].pk, "minimal_downtime"))
    Job.objects.filter(pk=waiting.pk).update(cancel_requested=True)  # else it would wait for ever here

    with pytest.raises(JobCancelled, match="waited for a migration slot"):
        migration._take_slot(JobRun(waiting), source, world["hosts"][2])


def test_a_slot_is_taken_when_fewer_than_two_leave_and_arrive(vm, world, admin):
    job = job_create(title="mine", task="vm.migrate", steps=[migration.WAIT_STEP], target=vm, user=admin,
                     task_args=(world["hosts"][0].pk, world["hosts"][1].pk, "minimal_downtime"))
    migration._take_slot(JobRun(job), world["hosts"][0], world["hosts"][1])
    job.refresh_from_db()
    assert job.result == {"source": world["hosts"][0].pk, "destination": world["hosts"][1].pk}


def test_cancelling_a_queued_migration_ends_it_cancelled_and_unlocks_the_vm(api, vm):
    job_id = migrate(api, vm).json()["job"]["id"]
    answer = api.post(f"/api/v1/jobs/{job_id}/cancel/")
    assert answer.status_code == 200 and answer.json()["cancel_requested"] is True
    assert api.post(f"/api/v1/jobs/{job_id}/cancel/").status_code == 200  # asking twice is harmless

    job = run_job(Job.objects.get(pk=job_id))

    assert job.status == JobStatus.CANCELLED
    vm.refresh_from_db()
    assert vm.status != VmStatus.MIGRATING  # the test driver has no such domain: unknown, saying why
    assert Event.objects.filter(code="vm.migrate.cancelled").exists()
    assert api.post(f"/api/v1/jobs/{job_id}/cancel/").status_code == 409


def test_a_job_that_cannot_be_cancelled_says_so(api, vm):
    job = job_create(title="Start", task="vm.start", steps=["x"], target=vm, task_args=(None, {}))
    answer = api.post(f"/api/v1/jobs/{job.pk}/cancel/")
    assert answer.status_code == 409 and "cannot be cancelled" in answer.json()["detail"]


def test_the_policies_are_oVirts_ladders():
    assert MIGRATION_POLICIES["minimal_downtime"]["downtime_ladder_ms"] == (100, 150, 200, 300, 400, 500)
    options = migration_options("suspend_workload", bandwidth_mib_s=52, unsafe_shared_directory=False)
    assert (options.last_resort, options.final_downtime_ms, options.auto_converge) == ("long_downtime", 5000, True)
    with pytest.raises(ValueError, match="Unknown migration policy"):
        migration_options("warp", bandwidth_mib_s=None, unsafe_shared_directory=False)


def test_the_dialog_shows_each_hosts_verdict_and_starts_the_job(client, admin, vm, world):
    client.force_login(admin)
    url = reverse("vms:vm-migrate", args=[vm.pk])
    assert url in client.get(reverse("vms:vm-detail", args=[vm.pk])).content.decode()
    page = client.get(url).content.decode()
    assert 'data-host-verdict="host1"' in page and "the VM runs here now" in page
    assert 'data-host-verdict="host2"' in page and "Chosen" in page
    answer = client.post(url, {"host": world["hosts"][2].pk, "policy": ""})
    assert answer.status_code == 302
    assert Job.objects.get(kind="vm.migrate").args[1] == world["hosts"][2].pk


def test_the_dialog_says_why_when_it_refuses(client, admin, vm, world):
    client.force_login(admin)
    running(world, "big", world["hosts"][1], 8000)
    page = client.post(reverse("vms:vm-migrate", args=[vm.pk]), {"host": world["hosts"][1].pk}).content.decode()
    assert "needs 1024 MiB" in page and not Job.objects.exists()


def test_vm_migrate_refuses_an_unknown_policy(vm, admin):
    with pytest.raises(Exception, match="Unknown migration policy"):
        vm_migrate(vm=vm, user=admin, policy="warp")


def test_the_job_page_cancels_a_migration_and_shows_the_button_only_while_it_can(client, admin, api, vm):
    job_id = migrate(api, vm).json()["job"]["id"]
    client.force_login(admin)
    page = reverse("core:job-detail", args=[job_id])
    assert "Cancel job" in client.get(page).content.decode()
    assert client.post(reverse("core:job-cancel", args=[job_id])).status_code == 302
    assert Job.objects.get(pk=job_id).cancel_requested
    assert "Cancel job" not in client.get(page).content.decode()
