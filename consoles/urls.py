"""The console pages (included before vms.urls, whose <pk>/<action>/ would catch them)."""

from django.urls import path

from consoles import views

app_name = "consoles"
urlpatterns = [
    path("vms/<int:pk>/console/", views.vm_console, name="vm-console"),
]
