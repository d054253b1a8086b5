"""The dashboard and /healthz."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from core.permissions import is_system_admin
from portal.dashboard import dashboard_summary
from portal.health import health_report, public_view


@login_required
def dashboard(request):
    return render(request, "portal/dashboard.html", dashboard_summary(request.user))


@require_GET
def healthz(request):
    """The details (which host, which URI, libvirt's words) only for system
    admins, or for everyone when HEALTHZ_DETAILS says so; same HTTP status either way."""
    report = health_report()
    # Who asks is read from the database: without it, nobody is known to be an admin.
    if not (settings.HEALTHZ_DETAILS or report["database"]["ok"] and is_system_admin(request.user)):
        report = public_view(report)
    return JsonResponse(report, status=200 if report["status"] == "ok" else 503)
