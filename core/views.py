"""Pages of core: the job list, a job with its events, the jobs tray, the event log."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from core.errors import PortalError
from core.filters import EventFilterSet, JobFilterSet, filter_list
from core.jobs import job_cancel, job_cancellable
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
    return render(request, "core/job_detail.html", {"job": job, "events": events, "cancellable": job_cancellable(job)})


@login_required
@require_POST
def job_cancel_page(request, pk: int):
    """The job page's Cancel button: the same rule as POST /api/v1/jobs/<id>/cancel/."""
    job = get_object_or_404(jobs_visible_to(request.user), pk=pk)
    try:
        job_cancel(job=job, user=request.user)
    except PortalError as error:
        messages.error(request, error.detail)
    else:
        messages.info(request, f"{job.title}: asked to stop; it ends cancelled in a moment.")
    return redirect("core:job-detail", job.pk)


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
