"""``{% floating_disks domain %}``: the storage domain page's card of the
floating disks (detached from their VM) it holds that the user may see, with
a remove button each. The storage domain is inventory's page; the disks are
ours, so the card comes from here."""

from django import template

from vms.permissions import floating_disks_visible_to
from vms.services.disk_facts import DISK_FACTS_RELATED, disk_facts

register = template.Library()


@register.inclusion_tag("vms/includes/floating_disks.html", takes_context=True)
def floating_disks(context, domain):
    disks = list(floating_disks_visible_to(context["request"].user).filter(storage_domain=domain)
                 .select_related(*DISK_FACTS_RELATED))
    facts = disk_facts(disks)
    return {"rows": [(disk, facts[disk.pk]) for disk in disks], "domain": domain, "request": context["request"],
            "csrf_token": context.get("csrf_token")}
