"""``{% vm_snapshots vm %}``: the VM page's Snapshots card (vms/views/snapshots.py decides what it shows)."""

from django import template

from vms.views.snapshots import snapshot_card

register = template.Library()


@register.inclusion_tag("vms/includes/vm_snapshots.html", takes_context=True)
def vm_snapshots(context, vm):
    return {**snapshot_card(context["request"], vm), "csrf_token": context.get("csrf_token")}
