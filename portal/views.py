from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from portal.dashboard import dashboard_summary
from portal.health import health_report


@login_required
def dashboard(request):
    return render(request, "portal/dashboard.html", dashboard_summary(request.user))


@require_GET
def healthz(request):
    report = health_report()
    return JsonResponse(report, status=200 if report["status"] == "ok" else 503)
