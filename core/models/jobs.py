"""The Job model: long work with steps, progress and the task it runs."""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q

from core.choices import ChoiceSet


class JobStatus(ChoiceSet):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    CHOICES = [
        (PENDING, "Pending", "grey"),
        (RUNNING, "Running", "blue"),
        (SUCCEEDED, "Succeeded", "green"),
        (FAILED, "Failed", "red"),
        (CANCELLED, "Cancelled", "orange"),
    ]
    ACTIVE = (PENDING, RUNNING)
    ENDED = (SUCCEEDED, FAILED, CANCELLED)


class StepStatus(ChoiceSet):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CHOICES = [
        (PENDING, "Pending", "grey"),
        (RUNNING, "Running", "blue"),
        (DONE, "Done", "green"),
        (FAILED, "Failed", "red"),
    ]


class Job(models.Model):
    """Long work done by a Celery worker. Steps live in a JSON list
    ([{name, status, progress}]) because they are always read and written with
    their job, never queried on their own."""

    kind = models.CharField(max_length=64)  # the task's registered name
    # The task's arguments after the job's id: the job can be sent again from its row.
    args = models.JSONField(default=list, blank=True)
    title = models.CharField(max_length=255)
    status = models.CharField(
        max_length=16, choices=JobStatus.choices(), default=JobStatus.PENDING
    )
    progress = models.PositiveSmallIntegerField(default=0)
    steps = models.JSONField(default=list, blank=True)
    target_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    target_id = models.CharField(max_length=64, blank=True)
    target_name = models.CharField(max_length=255, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    error = models.TextField(blank=True)
    # What the work measured, for the API (a migration's downtime, say).
    result = models.JSONField(default=dict, blank=True)
    # Whether jobs/<id>/cancel/ may ask it to stop (its service says so at
    # creation), and whether it was asked: the running work checks that.
    cancellable = models.BooleanField(default=False)
    cancel_requested = models.BooleanField(default=False)
    celery_task_id = models.CharField(max_length=64, blank=True)
    worker = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status"]), models.Index(fields=["worker", "status"])]
        constraints = [
            # One active job per object: the database, not a race-prone check,
            # refuses a second one.
            models.UniqueConstraint(
                fields=["target_type", "target_id"],
                condition=Q(status__in=JobStatus.ACTIVE),
                name="one_active_job_per_target",
            ),
            models.CheckConstraint(condition=Q(progress__lte=100), name="job_progress_max_100"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in JobStatus.ACTIVE
