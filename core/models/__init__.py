"""core's models: jobs, events, roles and object permissions."""

from core.models.events import Event, Severity
from core.models.jobs import Job, JobStatus, StepStatus
from core.models.permissions import Permission, Role

__all__ = ["Event", "Job", "JobStatus", "Permission", "Role", "Severity", "StepStatus"]
