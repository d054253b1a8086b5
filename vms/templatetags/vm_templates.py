"""``{% vm_make_template_link vm %}``: the VM page's "Make template" button,
shown when vms/views/templates.py's make_template_allowed says so."""

from django import template
from django.urls import reverse
from django.utils.html import format_html

from vms.views.templates import make_template_allowed

register = template.Library()


@register.simple_tag(takes_context=True)
def vm_make_template_link(context, vm):
    if not make_template_allowed(context["request"].user, vm):
        return ""
    return format_html('<a class="pf-v6-c-button pf-m-secondary" href="{}"><span class="pf-v6-c-button__text">'
                       'Make template…</span></a>', reverse("vms:vm-make-template", args=[vm.pk]))
