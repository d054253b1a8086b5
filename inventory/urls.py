from django.urls import path

from inventory import views

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
]
