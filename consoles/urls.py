"""Console pages and files under /vms/<id>/ (mounted by portal/urls.py)."""

from django.urls import path

from consoles import client_views

app_name = "consoles"
urlpatterns = [
    path("<int:pk>/console.vv", client_views.vm_console_vv, name="vm-console-vv"),
    path("<int:pk>/console.rdp", client_views.vm_console_rdp, name="vm-console-rdp"),
]
