"""{% vm_console_link vm %}: the one-click "Console" button of the VM list and
the VM page; {% vm_serial_link vm %}: its serial console's; {% vm_client_links vm %}:
the native client files' downloads on the VM page."""

from django import template
from django.urls import reverse
from django.utils.html import format_html

from consoles.services import vm_graphics_protocol, vm_serial_available
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


@register.simple_tag
def vm_serial_link(vm, compact: bool = False, only_headless: bool = False):
    """A link opening the serial console in its own tab while the VM runs
    (``only_headless``: only when it has no screen, where the list shows no
    Console button)."""
    if not vm_serial_available(vm) or (only_headless and vm_shows_screen(vm)):
        return ""
    return format_html(
        '<a class="pf-v6-c-button pf-m-secondary{}" href="{}" target="_blank" rel="noopener" data-serial-link>'
        '<span class="pf-v6-c-button__icon pf-m-start"><i class="fas fa-terminal" aria-hidden="true"></i></span>'
        '<span class="pf-v6-c-button__text">Serial console</span></a>',
        " pf-m-small" if compact else "", reverse("consoles:vm-serial", args=[vm.pk]))


@register.simple_tag
def vm_client_links(vm):
    """Downloads for native clients: remote-viewer's file while the VM shows a
    screen, and an RDP file for a running Windows guest."""
    links = []
    if vm_shows_screen(vm):
        links.append(format_html(
            '<a class="pf-v6-c-button pf-m-link pf-m-small" href="{}" data-client-file="vv" '
            'title="A file for remote-viewer (virt-viewer) with a one-time password">'
            '<span class="pf-v6-c-button__text">{} in remote-viewer</span></a>',
            reverse("consoles:vm-console-vv", args=[vm.pk]), vm_graphics_protocol(vm).upper()))
    if vm.os_type.family == "windows" and vm_serial_available(vm):
        links.append(format_html(
            '<a class="pf-v6-c-button pf-m-link pf-m-small" href="{}" data-client-file="rdp" '
            'title="A file for a Remote Desktop client, to the address the guest agent reports">'
            '<span class="pf-v6-c-button__text">Remote Desktop (.rdp)</span></a>',
            reverse("consoles:vm-console-rdp", args=[vm.pk])))
    return format_html("".join(["{}"] * len(links)), *links) if links else ""
