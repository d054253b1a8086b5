"""Pages of core: jobs and events."""

from django.urls import path

from core import views

app_name = "core"
urlpatterns = [
    path("jobs/", views.job_list, name="job-list"),
    path("jobs/tray/", views.job_tray, name="job-tray"),
    path("jobs/<int:pk>/", views.job_detail, name="job-detail"),
    path("jobs/<int:pk>/cancel/", views.job_cancel_page, name="job-cancel"),
    path("events/", views.event_list, name="event-list"),
]
