"""The jobs lane: a real Celery worker against real Redis, and the updates it
publishes arriving at a websocket consumer."""

import time

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator

from core.consumers import UpdatesConsumer
from core.jobs import job_create, job_enqueue
from core.models import Event, Job, JobStatus, StepStatus
from tests.conftest import ARTIFACTS
from tests.core import job_tasks
from tests.support.processes import Worker

pytestmark = [pytest.mark.jobs, pytest.mark.django_db(transaction=True)]


def wait_for_status(job: Job, statuses, timeout: float = 30) -> Job:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status in statuses:
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job.pk} still {job.status} after {timeout}s: {job.steps}")


def test_it_runs_a_job_on_the_worker_and_streams_its_progress_to_the_websocket(worker, admin):
    async def scenario() -> list[dict]:
        communicator = WebsocketCommunicator(UpdatesConsumer.as_asgi(), "/ws/updates/")
        communicator.scope["user"] = admin
        connected, _ = await communicator.connect()
        assert connected
        job = await job_create_async(admin)
        messages = []
        while not messages or messages[-1]["status"] not in JobStatus.ENDED:
            message = await communicator.receive_json_from(timeout=20)
            # The admins' group also carries what the shared worker still
            # finishes for earlier tests (a VM going down, a host refreshed),
            # whose job ids restart with every test: only this job counts.
            if message["type"] == "job" and (message["id"], message["kind"]) == (job.pk, job.kind):
                messages.append(message)
        await communicator.disconnect()
        return messages

    from channels.db import database_sync_to_async

    @database_sync_to_async
    def job_create_async(user):
        return job_create(title="Copy things", task="test.three_steps", steps=job_tasks.STEPS,
                          target=user, user=user, task_args=(0.05,))

    messages = async_to_sync(scenario)()

    last = messages[-1]
    assert last["status"] == JobStatus.SUCCEEDED and last["progress"] == 100
    assert [step["status"] for step in last["steps"]] == [StepStatus.DONE] * 3
    progress = [m["progress"] for m in messages]
    assert progress == sorted(progress), "progress never goes backwards"
    assert len(set(progress)) >= 4, f"intermediate progress was reported: {progress}"
    assert any(m["status"] == JobStatus.RUNNING and 0 < m["progress"] < 100 for m in messages)
    assert Job.objects.get(pk=last["id"]).worker == worker.hostname


def test_it_fails_the_job_on_the_worker_and_records_why(worker, admin):
    job = job_create(title="Break things", task="test.fails", steps=["Prepare", "Copy"], target=admin, user=admin)
    job = wait_for_status(job, JobStatus.ENDED)
    assert job.status == JobStatus.FAILED
    assert "the disk is on fire" in job.error
    assert Event.objects.filter(job=job, severity="error").exists()


def test_it_marks_the_job_of_a_killed_worker_failed_when_the_worker_restarts(db, admin, redis_url):
    doomed = Worker("tests-doomed", ARTIFACTS / "logs" / "worker-doomed.log", queue=job_tasks.SLEEPS_QUEUE).start()
    try:
        job = job_create(title="Long sleep", task="test.sleeps", steps=["Sleep"], target=admin,
                         user=admin, task_args=(120,))
        job = wait_for_status(job, [JobStatus.RUNNING])
        assert job.worker == doomed.hostname
        doomed.kill()

        doomed.start()
        job = wait_for_status(job, JobStatus.ENDED, timeout=30)
    finally:
        doomed.stop()

    assert job.status == JobStatus.FAILED
    assert f"The worker {doomed.hostname} stopped while this job was running" in job.error
    assert job.target_name.startswith(job_tasks.UNLOCKED_MARK), "the failure handler unlocked"
    assert Event.objects.filter(job=job, code="test.sleeps.failed").exists()


def test_it_runs_a_job_sent_again_from_its_row(worker, admin):
    """A job whose message was lost (never sent here) is resumed from what its row keeps."""
    job = Job.objects.create(kind="test.three_steps", title="Resumed", args=[0.01], target_name="resumed",
                             steps=[{"name": name, "status": StepStatus.PENDING, "progress": 0}
                                    for name in job_tasks.STEPS])
    job_enqueue(job)
    job = wait_for_status(job, JobStatus.ENDED)
    assert job.status == JobStatus.SUCCEEDED and job.worker == worker.hostname
