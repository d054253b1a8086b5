"""The inventory's pages. Every pattern names its own path: the create, edit and
remove pages come from core/crud.py, one set per kind, so no order matters."""

from django.urls import path

from core.crud import kind_urls
from inventory import edit_views, views

app_name = "inventory"
urlpatterns = [
    path("datacenters/", views.datacenter_list, name="datacenter-list"),
    path("datacenters/<int:pk>/", views.datacenter_detail, name="datacenter-detail"),
    path("clusters/", views.cluster_list, name="cluster-list"),
    path("clusters/<int:pk>/", views.cluster_detail, name="cluster-detail"),
    path("hosts/", views.host_list, name="host-list"),
    path("hosts/<int:pk>/", views.host_detail, name="host-detail"),
    path("storage/", views.storagedomain_list, name="storagedomain-list"),
    path("storage/<int:pk>/", views.storagedomain_detail, name="storagedomain-detail"),
    path("networks/", views.network_list, name="network-list"),
    path("networks/<int:pk>/", views.network_detail, name="network-detail"),
    path("images/", views.image_list, name="image-list"),
    path("images/upload/", edit_views.image_upload, name="image-upload"),
    path("images/<int:pk>/remove/", edit_views.image_remove, name="image-remove"),
    path("hosts/<int:pk>/refresh/", edit_views.host_refresh, name="host-refresh"),
    path("hosts/<int:pk>/activate/", edit_views.host_activate, name="host-activate"),
    path("hosts/<int:pk>/power-test/", edit_views.host_power_test, name="host-power-test"),
    path("hosts/<int:pk>/confirm-rebooted/", edit_views.host_confirm_rebooted, name="host-confirm-rebooted"),
    path("storage/<int:pk>/attach/", edit_views.storage_attach, name="storagedomain-attach"),
    path("storage/<int:pk>/detach/", edit_views.storage_detach, name="storagedomain-detach"),
    path("networks/<int:pk>/attach/", edit_views.network_attach, name="network-attach"),
    path("networks/<int:pk>/detach/", edit_views.network_detach, name="network-detach"),
    *(pattern for kind in edit_views.KINDS for pattern in kind_urls(kind)),
]
