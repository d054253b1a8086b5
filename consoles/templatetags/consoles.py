"""{% vm_console_link vm %}: the one-click "Console" button of the VM list and the VM page."""

from django import template
from django.urls import reverse
from django.utils.html import format_html

from vms.services.screenshot import vm_shows_screen

register = template.Library()


@register.simple_tag
def vm_console_link(vm, compact: bool = False):
    """A link opening the console in its own tab, while the VM shows a screen.
    Who may use it is checked by the page (403 otherwise)."""
    if not vm_shows_screen(vm):
        return ""
    return format_html(
        '<a class="pf-v6-c-button pf-m-secondary{}" href="{}" target="_blank" rel="noopener" data-console-link>'
        '<span class="pf-v6-c-button__icon pf-m-start"><i class="fas fa-terminal" aria-hidden="true"></i></span>'
        '<span class="pf-v6-c-button__text">Console</span></a>',
        " pf-m-small" if compact else "", reverse("consoles:vm-console", args=[vm.pk]))
