"""The console pages and files (included before vms.urls, whose <pk>/<action>/ would catch them)."""

from django.urls import path

from consoles import client_views, serial_views, views

app_name = "consoles"
urlpatterns = [
    path("vms/<int:pk>/console/", views.vm_console, name="vm-console"),
    path("vms/<int:pk>/serial/", serial_views.vm_serial, name="vm-serial"),
    path("vms/<int:pk>/console.vv", client_views.vm_console_vv, name="vm-console-vv"),
    path("vms/<int:pk>/console.rdp", client_views.vm_console_rdp, name="vm-console-rdp"),
]
