"""The job machinery, run in-process (Celery's eager `apply`)."""

import pytest

from core.errors import Conflict
from core.jobs import JobRun, job_create, jobs_fail_orphaned
from core.models import Event, Job, JobStatus, Severity, StepStatus
from tests.core import job_tasks
from tests.support.jobs import run_job

pytestmark = pytest.mark.django_db


def create(task: str, target, user=None, **kwargs) -> Job:
    return job_create(title="Test job", task=task, steps=job_tasks.STEPS, target=target, user=user, **kwargs)


def test_it_creates_a_pending_job_with_its_steps_declared(admin):
    job = create("test.three_steps", target=admin, user=admin)
    assert job.status == JobStatus.PENDING
    assert job.kind == "test.three_steps"
    assert [step["name"] for step in job.steps] == job_tasks.STEPS
    assert {step["status"] for step in job.steps} == {StepStatus.PENDING}


def test_it_refuses_a_second_active_job_on_the_same_object(admin):
    create("test.three_steps", target=admin, task_args=(0,))
    with pytest.raises(Conflict, match="busy with another job"):
        create("test.three_steps", target=admin, task_args=(0,))
    assert Job.objects.count() == 1


def test_it_allows_a_new_job_once_the_last_one_ended(admin):
    first = create("test.three_steps", target=admin, task_args=(0,))
    run_job(first)
    second = create("test.three_steps", target=admin, task_args=(0,))
    assert second.pk != first.pk


def test_it_enqueues_only_when_the_transaction_commits(admin, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        create("test.three_steps", target=admin, task_args=(0,))
    assert len(callbacks) == 1


def test_it_keeps_the_task_arguments_on_its_row_and_runs_from_them(admin):
    job = job_create(title="Nap", task="test.sleeps", steps=["Sleep"], target=admin, task_args=(0.01,))
    job = Job.objects.get(pk=job.pk)
    assert (job.kind, job.args) == ("test.sleeps", [0.01])
    job = run_job(job)
    assert job.status == JobStatus.SUCCEEDED
    assert job.steps == [{"name": "Sleep", "status": StepStatus.DONE, "progress": 100}]


def test_it_runs_steps_to_success_with_full_progress(admin):
    job = create("test.three_steps", target=admin, task_args=(0,))
    run_job(job)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED
    assert job.progress == 100
    assert [step["status"] for step in job.steps] == [StepStatus.DONE] * 3
    assert job.started_at <= job.ended_at


def test_it_fails_the_job_unlocks_and_leaves_an_event_saying_why(admin):
    job = create("test.fails", target=admin, user=admin)
    run_job(job)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "the disk is on fire" in job.error
    assert job.target_name.startswith(job_tasks.UNLOCKED_MARK)
    assert [s["status"] for s in job.steps[:2]] == [StepStatus.DONE, StepStatus.FAILED]
    event = Event.objects.get(job=job)
    assert event.severity == Severity.ERROR
    assert event.code == "test.fails.failed"
    assert "the disk is on fire" in event.message
    assert event.user == admin


def test_it_does_not_run_a_job_twice_when_the_message_is_redelivered(admin):
    job = create("test.three_steps", target=admin, task_args=(0,))
    run_job(job)
    ended_at = Job.objects.get(pk=job.pk).ended_at
    run_job(job)
    assert Job.objects.get(pk=job.pk).ended_at == ended_at


def test_it_fails_the_running_jobs_of_a_restarted_worker_only(admin, bob):
    mine = create("test.sleeps", target=admin)
    theirs = create("test.sleeps", target=bob)
    Job.objects.filter(pk=mine.pk).update(status=JobStatus.RUNNING, worker="w1@host")
    Job.objects.filter(pk=theirs.pk).update(status=JobStatus.RUNNING, worker="w2@host")

    assert jobs_fail_orphaned(worker="w1@host") == 1

    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.status == JobStatus.FAILED
    assert "w1@host stopped while this job was running" in mine.error
    assert mine.target_name.startswith(job_tasks.UNLOCKED_MARK)
    assert theirs.status == JobStatus.RUNNING


def test_a_step_reporter_saves_each_new_percentage_at_most_as_often_as_asked(admin):
    job = create("test.three_steps", target=admin, task_args=(0,))
    run = JobRun(job)
    saved: list[int] = []
    run.step_progress = lambda name, percent: saved.append(percent)  # what reached the database
    report = run.step_reporter(job_tasks.STEPS[0], min_seconds=3600)

    report(10, 100)
    report(50, 100)  # too soon after the first: skipped
    report(100, 100)  # the end is always told
    report(100, 100)  # nothing new

    assert saved == [10, 100]


def test_a_step_reporter_turns_bytes_into_the_steps_and_the_jobs_progress(admin):
    job = create("test.three_steps", target=admin, task_args=(0,))
    run = JobRun(job)
    run.step_reporter(job_tasks.STEPS[1], min_seconds=0)(3 * 2**20, 4 * 2**20)
    job.refresh_from_db()
    assert job.steps[1]["progress"] == 75 and job.progress == 25
    assert run.step_reporter(job_tasks.STEPS[1], min_seconds=0)(0, 0) is None  # no total yet: 0 %, no error
