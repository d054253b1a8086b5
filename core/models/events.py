"""The audit log's model and its severities."""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models

from core.choices import ChoiceSet


class Severity(ChoiceSet):
    NORMAL = "normal"
    WARNING = "warning"
    ERROR = "error"
    ALERT = "alert"
    CHOICES = [
        (NORMAL, "Normal", "green"),
        (WARNING, "Warning", "orange"),
        (ERROR, "Error", "red"),
        (ALERT, "Alert", "purple"),
    ]


class Event(models.Model):
    """The audit log: who did what, to which object, and how it ended. The
    target's name is copied so the entry still reads well after a delete."""

    time = models.DateTimeField(auto_now_add=True, db_index=True)
    severity = models.CharField(max_length=16, choices=Severity.choices(), default=Severity.NORMAL)
    code = models.CharField(max_length=64)
    message = models.TextField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    target_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    target_id = models.CharField(max_length=64, blank=True)
    target_name = models.CharField(max_length=255, blank=True)
    job = models.ForeignKey(
        "core.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )

    class Meta:
        ordering = ["-time", "-id"]
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self) -> str:
        return f"[{self.severity}] {self.message}"
