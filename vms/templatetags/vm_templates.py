"""The VM page's links to its other pages, each shown when its view's rule
says so: ``{% vm_make_template_link vm %}`` (vms/views/templates.py's
make_template_allowed) and ``{% vm_migrate_link vm %}`` (vms/views/migration.py's
migrate_allowed)."""

from django import template
from django.urls import reverse
from django.utils.html import format_html

from vms.views.migration import migrate_allowed
from vms.views.templates import make_template_allowed

register = template.Library()


@register.simple_tag(takes_context=True)
def vm_make_template_link(context, vm):
    if not make_template_allowed(context["request"].user, vm):
        return ""
    return format_html('<a class="pf-v6-c-button pf-m-secondary" href="{}"><span class="pf-v6-c-button__text">'
                       'Make template…</span></a>', reverse("vms:vm-make-template", args=[vm.pk]))


@register.simple_tag(takes_context=True)
def vm_migrate_link(context, vm):
    if not migrate_allowed(context["request"].user, vm):
        return ""
    return format_html('<a class="pf-v6-c-button pf-m-secondary" href="{}" data-vm-action="migrate">'
                       '<span class="pf-v6-c-button__text">Migrate…</span></a>', reverse("vms:vm-migrate", args=[vm.pk]))
