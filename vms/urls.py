"""The VM pages: list, wizard, instance types, a VM's page and its actions."""

from django.urls import path

from core.crud import ObjectCreateView, ObjectEditView, ObjectRemoveView
from vms.views import disks, edit, instance_types, migration, pages, snapshots, templates, wizard
from vms.views.instance_types import INSTANCE_TYPES

app_name = "vms"
urlpatterns = [
    path("", pages.vm_list, name="vm-list"),
    path("new/", wizard.vm_wizard, name="vm-create"),
    path("new/summary/", wizard.vm_wizard_summary, name="wizard-summary"),
    path("new/os-types/", wizard.vm_wizard_os_options, name="wizard-os-options"),
    path("instance-types/", instance_types.instancetype_list, name="instancetype-list"),
    path("instance-types/new/", ObjectCreateView.as_view(kind=INSTANCE_TYPES), name="instancetype-create"),
    # A preset's edit page is its page.
    path("instance-types/<int:pk>/", ObjectEditView.as_view(kind=INSTANCE_TYPES), name="instancetype-detail"),
    path("instance-types/<int:pk>/remove/", ObjectRemoveView.as_view(kind=INSTANCE_TYPES), name="instancetype-remove"),
    path("<int:pk>/", pages.vm_detail, name="vm-detail"),
    path("<int:pk>/screen/", pages.vm_screen, name="vm-screen"),
    path("<int:pk>/screenshot.png", pages.vm_screenshot, name="vm-screenshot"),
    path("<int:pk>/run-once/", pages.vm_run_once, name="vm-run-once"),
    path("<int:pk>/edit/", edit.vm_edit_page, name="vm-edit"),
    path("<int:pk>/migrate/", migration.vm_migrate_page, name="vm-migrate"),
    path("<int:pk>/delete/", pages.vm_delete, name="vm-delete"),
    path("<int:pk>/disks/<int:disk_pk>/<str:action>/", disks.vm_disk_action, name="vm-disk-action"),
    path("<int:pk>/disks/add/", disks.vm_disk_add, name="vm-disk-add"),
    path("<int:pk>/disks/attach/", disks.vm_disk_attach, name="vm-disk-attach"),
    path("floating-disks/<int:disk_pk>/remove/", disks.floating_disk_remove, name="floating-disk-remove"),
    path("<int:pk>/snapshots/new/", snapshots.vm_snapshot_create, name="vm-snapshot-create"),
    path("<int:pk>/snapshots/<int:snapshot_pk>/<str:action>/", snapshots.vm_snapshot_action,
         name="vm-snapshot-action"),
    path("<int:pk>/make-template/", templates.vm_make_template, name="vm-make-template"),
    path("<int:pk>/<str:action>/", pages.vm_action, name="vm-action"),
]
