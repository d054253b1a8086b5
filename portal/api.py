"""The REST API's routes (/api/v1/), its schema and its token endpoint."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.routers import DefaultRouter

from consoles.api import VmConsoleTicketView
from consoles.client_views import VmConsoleRdpView, VmConsoleVvView
from core.api.views import EventViewSet, JobViewSet
from vms.api.disks import FloatingDiskViewSet, VmDiskViewSet
from vms.api.maintenance import HostMaintenanceCancelView, HostMaintenancePlanView, HostMaintenanceView
from vms.api.snapshots import VmSnapshotViewSet
from vms.api.templates import TemplateViewSet
from vms.api.views import InstanceTypeViewSet, OperatingSystemViewSet, VmViewSet
from inventory.api.views import (
    ClusterViewSet,
    DataCenterViewSet,
    HostViewSet,
    ImageViewSet,
    NetworkViewSet,
    StorageDomainViewSet,
)

router = DefaultRouter()
router.register("datacenters", DataCenterViewSet, basename="datacenter")
router.register("clusters", ClusterViewSet, basename="cluster")
router.register("hosts", HostViewSet, basename="host")
router.register("storagedomains", StorageDomainViewSet, basename="storagedomain")
router.register("networks", NetworkViewSet, basename="network")
router.register("images", ImageViewSet, basename="image")
router.register("operatingsystems", OperatingSystemViewSet, basename="operatingsystem")
router.register("instancetypes", InstanceTypeViewSet, basename="instancetype")
router.register("vms", VmViewSet, basename="vm")
router.register(r"vms/(?P<vm_pk>[0-9]+)/disks", VmDiskViewSet, basename="vm-disk")
router.register("disks", FloatingDiskViewSet, basename="disk")
router.register(r"vms/(?P<vm_pk>[0-9]+)/snapshots", VmSnapshotViewSet, basename="vm-snapshot")
router.register("templates", TemplateViewSet, basename="template")
router.register("jobs", JobViewSet, basename="job")
router.register("events", EventViewSet, basename="event")

app_name = "api"
urlpatterns = [
    path("auth/token/", ObtainAuthToken.as_view(), name="auth-token"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("vms/<int:pk>/screenshot.png", VmViewSet.as_view({"get": "screenshot"}), name="vm-screenshot"),
    path("vms/<int:pk>/console/", VmConsoleTicketView.as_view(), name="vm-console"),
    path("vms/<int:pk>/console.vv", VmConsoleVvView.as_view(), name="vm-console-vv"),
    path("vms/<int:pk>/console.rdp", VmConsoleRdpView.as_view(), name="vm-console-rdp"),
    path("hosts/<int:pk>/maintenance-plan/", HostMaintenancePlanView.as_view(), name="host-maintenance-plan"),
    path("hosts/<int:pk>/maintenance/", HostMaintenanceView.as_view(), name="host-maintenance"),
    path("hosts/<int:pk>/maintenance/cancel/", HostMaintenanceCancelView.as_view(), name="host-maintenance-cancel"),
    path("", include(router.urls)),
]
