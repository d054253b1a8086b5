"""The vms app's pages about a host (under /hosts/): its maintenance plan."""

from django.urls import path

from vms.views import maintenance

app_name = "vms-hosts"
urlpatterns = [
    path("<int:pk>/maintenance-plan/", maintenance.host_maintenance_plan, name="maintenance-plan"),
]
