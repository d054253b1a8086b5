"""Jobs: long work done by a Celery worker, with steps and progress.

A service calls `job_create` inside its transaction with the task's registered
name and arguments; the job row keeps both, and the task is sent by name only
once that transaction commits, so a worker never sees a job that was rolled
back and services never import their tasks. `job_enqueue` sends a job's row
again (a lost message, a resumed job). The task, declared with `@job_task`,
receives a `JobRun` that saves each change and pushes it to the browser."""

from __future__ import annotations

import functools
import logging
import time
import uuid
from collections.abc import Callable
from contextlib import contextmanager

from celery import current_app, shared_task
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils import timezone

from core.errors import Conflict, PortalError
from core.events import event_record
from core.models import Job, JobStatus, Severity, StepStatus
from core.updates import publish

logger = logging.getLogger(__name__)

# How often a step's progress is saved and published at most while it moves.
STEP_PROGRESS_SECONDS = 0.5


def job_publish(job: Job) -> None:
    from core.api.serializers import JobSerializer  # the API's shape is the wire shape

    payload = {"type": "job", **JobSerializer(job, context={"request": None}).data}
    publish(payload, user_ids=[job.user_id])


def job_create(
    *,
    title: str,
    task: str,
    steps: list[str],
    target: Model | None = None,
    user=None,
    task_args: tuple = (),
    cancellable: bool = False,
) -> Job:
    """Create a pending job of the task registered as `task` (its kind) and
    enqueue `task(job_id, *task_args)` on commit. The arguments are kept on
    the row (JSON), so the job can be sent again from it. Raises Conflict when
    the target already has an active job. A ``cancellable`` job's work checks
    ``JobRun.cancel_requested`` (jobs/<id>/cancel/)."""
    try:
        with transaction.atomic():
            job = Job.objects.create(
                kind=task,
                title=title,
                args=list(task_args),
                steps=[{"name": name, "status": StepStatus.PENDING, "progress": 0} for name in steps],
                target_type=ContentType.objects.get_for_model(target) if target else None,
                target_id=str(target.pk) if target else "",
                target_name=str(target) if target else "",
                user=user if user and user.is_authenticated else None,
                celery_task_id=str(uuid.uuid4()),
                cancellable=cancellable,
            )
    except IntegrityError:
        raise Conflict(f"{target} is busy with another job; wait until it ends.")
    transaction.on_commit(lambda: job_enqueue(job))
    return job


def job_enqueue(job: Job) -> None:
    """Send the job's task, by its name, with the arguments its row keeps. A
    pending job is run once however often it is sent (the task claims it)."""
    # Published before sending: the worker's updates must never be overtaken
    # by this older, pending state.
    job_publish(job)
    current_app.send_task(job.kind, args=[job.pk, *job.args], task_id=job.celery_task_id)


class JobRun:
    """The running side of a job, held by its task."""

    def __init__(self, job: Job):
        self.job = job

    def _save(self, *fields: str) -> None:
        self.job.save(update_fields=list(fields))
        job_publish(self.job)

    def _step_index(self, name: str) -> int:
        for index, step in enumerate(self.job.steps):
            if step["name"] == name:
                return index
        self.job.steps.append({"name": name, "status": StepStatus.PENDING, "progress": 0})
        return len(self.job.steps) - 1

    def _overall_progress(self) -> int:
        steps = self.job.steps
        if not steps:
            return self.job.progress
        return int(sum(step["progress"] for step in steps) / len(steps))

    @contextmanager
    def step(self, name: str):
        """Marks the step running, then done, or failed if the block raises."""
        index = self._step_index(name)
        self.job.steps[index].update(status=StepStatus.RUNNING, progress=0)
        self._save("steps")
        try:
            yield
        except BaseException:
            self.job.steps[index]["status"] = StepStatus.FAILED
            self._save("steps")
            raise
        self.job.steps[index].update(status=StepStatus.DONE, progress=100)
        self.job.progress = self._overall_progress()
        self._save("steps", "progress")

    def step_progress(self, name: str, percent: int) -> None:
        index = self._step_index(name)
        self.job.steps[index]["progress"] = max(0, min(100, int(percent)))
        self.job.progress = self._overall_progress()
        self._save("steps", "progress")

    def step_reporter(self, name: str, min_seconds: float = STEP_PROGRESS_SECONDS) -> Callable[[int, int], None]:
        """A ``progress(done, total)`` callback for the step ``name`` (a copy's
        bytes, say) that saves and publishes only when the percentage changes
        and at most every ``min_seconds``: each save is a database write and a
        message to every watching browser."""
        last = {"percent": -1, "at": 0.0}

        def report(done: int, total: int) -> None:
            percent = int(100 * done / total) if total > 0 else 0
            now = time.monotonic()
            if percent == last["percent"] or (now - last["at"] < min_seconds and percent < 100):
                return
            last.update(percent=percent, at=now)
            self.step_progress(name, percent)

        return report

    def cancel_requested(self) -> bool:
        """Whether jobs/<id>/cancel/ asked this job to stop (read afresh: it
        is set by another process)."""
        return Job.objects.filter(pk=self.job.pk, cancel_requested=True).exists()

    def result_set(self, **figures) -> None:
        self.job.result = {**self.job.result, **figures}
        self._save("result")

    def event(self, *, code: str, message: str, severity: str = Severity.NORMAL) -> None:
        event_record(
            code=code, message=message, severity=severity,
            user=self.job.user, target=self.target, job=self.job,
        )

    @functools.cached_property
    def target(self) -> Model | None:
        if self.job.target_type is None:
            return None
        return self.job.target_type.get_object_for_this_type(pk=self.job.target_id)


def _claim(job_id: int, worker: str) -> Job | None:
    """Compare-and-swap pending -> running, so a redelivered message (acks_late)
    never runs a job twice or revives one that has ended."""
    claimed = Job.objects.filter(pk=job_id, status=JobStatus.PENDING).update(
        status=JobStatus.RUNNING, started_at=timezone.now(), worker=worker
    )
    if not claimed:
        logger.info("job %s is not pending any more; nothing to do", job_id)
        return None
    return Job.objects.select_related("target_type", "user").get(pk=job_id)


def _end(job: Job, status: str, error: str = "") -> None:
    job.status = status
    job.error = error
    job.ended_at = timezone.now()
    if status == JobStatus.SUCCEEDED:
        job.progress = 100
    job.save(update_fields=["status", "error", "ended_at", "progress"])
    job_publish(job)


def failure_message(exc: BaseException) -> str:
    if isinstance(exc, PortalError):
        return exc.detail
    message = getattr(exc, "message", None)  # hypervisor errors carry a clean one
    if isinstance(message, str) and message:
        return message
    return f"Unexpected error ({type(exc).__name__}): {exc}"


FailureHandler = Callable[[JobRun, str], None]
_failure_handlers: dict[str, FailureHandler] = {}


def _fail(run: JobRun, message: str, status: str = JobStatus.FAILED) -> None:
    job = run.job
    handler = _failure_handlers.get(job.kind)
    if handler is not None:
        handler(run, message)
    _end(job, status, message)
    if status == JobStatus.CANCELLED:
        run.event(code=f"{job.kind}.cancelled", message=f"{job.title} was cancelled: {message}",
                  severity=Severity.WARNING)
    else:
        run.event(code=f"{job.kind}.failed", message=f"{job.title} failed: {message}", severity=Severity.ERROR)


class JobCancelled(Exception):
    """Raised by a cancellable job's work when it has stopped because it was
    asked to (JobRun.cancel_requested): the job ends cancelled, its failure
    hook undoing its locks as for a failure."""


def job_cancellable(job: Job) -> bool:
    """Whether jobs/<id>/cancel/ may ask this job to stop now."""
    return job.cancellable and job.status in JobStatus.ACTIVE and not job.cancel_requested


def job_cancel(*, job: Job, user) -> Job:
    """Ask the job to stop; its work stops at its next check (a migration
    within a second) and the job ends cancelled. 409 when it cannot be."""
    if not job.cancellable:
        raise Conflict(f"{job.title}: this kind of job cannot be cancelled.")
    asked = Job.objects.filter(pk=job.pk, status__in=JobStatus.ACTIVE, cancel_requested=False).update(
        cancel_requested=True)
    job.refresh_from_db()
    if not asked:
        if job.cancel_requested and job.status in JobStatus.ACTIVE:
            return job  # asked already: the same answer again
        raise Conflict(f"{job.title} has ended ({JobStatus.label(job.status).lower()}); there is nothing to cancel.")
    job_publish(job)
    event_record(code=f"{job.kind}.cancel_requested", message=f"{job.title}: cancel asked.", user=user, job=job,
                 target=job.target_type.get_object_for_this_type(pk=job.target_id) if job.target_type else None)
    return job


def job_task(*, name: str, on_failure: FailureHandler | None = None):
    """Declares a Celery task that works on a job. The wrapped function gets the
    JobRun and the task's extra arguments; a raised exception fails the job,
    runs `on_failure` (which must undo any lock the job's service took) and
    leaves an error event saying why. A cancellable job's work (job_create's
    ``cancellable``) checks ``run.cancel_requested()`` and raises JobCancelled
    once it has stopped."""

    def decorate(work: Callable[..., None]):
        if on_failure is not None:
            _failure_handlers[name] = on_failure

        @shared_task(name=name, bind=True, acks_late=True)
        @functools.wraps(work)
        def task(self, job_id: int, *args):
            job = _claim(job_id, worker=self.request.hostname or "")
            if job is None:
                return
            run = JobRun(job)
            try:
                if job.cancel_requested:  # cancelled while it waited in line
                    raise JobCancelled("cancelled before it started")
                work(run, *args)
            except JobCancelled as exc:
                _fail(run, str(exc), JobStatus.CANCELLED)
                return
            except Exception as exc:
                logger.exception("job %s (%s) failed", job.pk, job.kind)
                _fail(run, failure_message(exc))
                return
            _end(job, JobStatus.SUCCEEDED)

        return task

    return decorate


def jobs_fail_orphaned(*, worker: str) -> int:
    """On worker start-up: jobs this worker was running died with its previous
    process. Mark them failed with the reason, so nothing stays locked."""
    orphans = Job.objects.filter(worker=worker, status=JobStatus.RUNNING).select_related(
        "target_type", "user"
    )
    message = (
        f"The worker {worker} stopped while this job was running and has been "
        "restarted; the job did not finish. Run it again."
    )
    count = 0
    for job in orphans:
        _fail(JobRun(job), message)
        count += 1
    return count
