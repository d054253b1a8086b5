"""The vms app's pages about a cluster (under /clusters/): its balancer's dry run."""

from django.urls import path

from vms.views import maintenance

app_name = "vms-clusters"
urlpatterns = [
    path("<int:pk>/balance/", maintenance.cluster_balance_page, name="balance"),
]
