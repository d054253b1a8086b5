"""The root URL map: the only place that knows every app's pages."""

from django.contrib.auth import views as auth_views
from django.urls import include, path

from portal import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("healthz", views.healthz, name="healthz"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/v1/", include("portal.api")),
    path("", include("core.urls")),
    path("", include("consoles.urls")),
    path("vms/", include("vms.urls")),
    path("templates/", include("vms.template_urls")),
    path("hosts/", include("vms.host_urls")),
    path("clusters/", include("vms.cluster_urls")),
    path("", include("inventory.urls")),
]
