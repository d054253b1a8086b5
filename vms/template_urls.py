"""The template pages, under /templates/ (making one from a VM starts from its page: vms/urls.py)."""

from django.urls import path

from vms.views import templates

app_name = "templates"
urlpatterns = [
    path("", templates.template_list, name="template-list"),
    path("<int:pk>/", templates.template_detail, name="template-detail"),
    path("<int:pk>/delete/", templates.template_delete_page, name="template-delete"),
    path("from-image/", templates.template_from_image, name="template-from-image"),
]
