"""The vms app's pages about a host (under /hosts/): its maintenance plan and mode."""

from django.urls import path

from vms.views import maintenance

app_name = "vms-hosts"
urlpatterns = [
    path("<int:pk>/maintenance-plan/", maintenance.host_maintenance_plan, name="maintenance-plan"),
    path("<int:pk>/maintenance/", maintenance.host_maintenance_page, name="maintenance"),
    path("<int:pk>/maintenance/cancel/", maintenance.host_maintenance_page, {"cancel": True},
         name="maintenance-cancel"),
]
