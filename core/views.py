"""Pages of core: the job list, a job with its events, the jobs tray, the event log."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render

from core.filters import EventFilterSet, JobFilterSet, filter_list
from core.models import JobStatus
from core.selectors import events_visible_to, jobs_visible_to

PAGE_SIZE = 100


@login_required
def job_list(request):
    jobs, listing = filter_list(request, JobFilterSet, jobs_visible_to(request.user))
    return render(request, "core/job_list.html", {"jobs": jobs[:PAGE_SIZE], **listing})


@login_required
def job_detail(request, pk: int):
    job = get_object_or_404(jobs_visible_to(request.user), pk=pk)
    events = job.events.select_related("user")
    return render(request, "core/job_detail.html", {"job": job, "events": events})


@login_required
def event_list(request):
    events, listing = filter_list(request, EventFilterSet, events_visible_to(request.user))
    return render(request, "core/event_list.html", {"events": events[:PAGE_SIZE], **listing})


@login_required
def job_tray(request):
    """The masthead's jobs tray (loaded with htmx, then kept live by websocket)."""
    jobs = jobs_visible_to(request.user)
    return render(request, "core/includes/job_tray.html", {
        "active_jobs": jobs.filter(status__in=JobStatus.ACTIVE)[:20],
        "recent_jobs": jobs.exclude(status__in=JobStatus.ACTIVE).order_by("-ended_at")[:5],
    })
