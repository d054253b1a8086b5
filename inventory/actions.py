"""The action buttons of an inventory object's page, decided in Python: a
button shows when the user may do the action (the same permission its view
and the API check) and the object's status is one its service accepts (the
service's own constant), so templates never compare status strings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Model
from django.urls import reverse

from core.permissions import has_permission
from inventory.choices import HostStatus
from inventory.models import Host, Network, StorageDomain
from inventory.services import network as network_service
from inventory.services import storage as storage_service
from inventory.services.hosts import ACTIVATABLE_STATES, STATES_THAT_REFUSE_REFRESH


@dataclass(frozen=True)
class ObjectAction:
    label: str
    url: str
    style: str = "pf-m-secondary"  # the button's PatternFly modifiers
    post: bool = True  # a form posting to url (it changes something), else a link to a page that asks first


# Buttons that higher apps add to an object's page (the vms app: a host's
# maintenance plan, a cluster's balancer), each a function of the object giving
# its actions for an admin of it.
ActionSource = Callable[[Model], list[ObjectAction]]
_action_sources: list[tuple[type[Model], ActionSource]] = []


def register_action_source(model: type[Model], source: ActionSource) -> None:
    _action_sources.append((model, source))


def _host_actions(host: Host) -> list[ObjectAction]:
    actions = []
    if host.status not in STATES_THAT_REFUSE_REFRESH:
        actions.append(ObjectAction("Refresh", reverse("inventory:host-refresh", args=[host.pk])))
    if host.status in ACTIVATABLE_STATES:
        actions.append(ObjectAction("Activate", reverse("inventory:host-activate", args=[host.pk]), "pf-m-primary"))
    if host.pm_address:
        actions.append(ObjectAction("Test power management", reverse("inventory:host-power-test", args=[host.pk])))
    if host.status == HostStatus.NON_RESPONSIVE:
        # Without power management this is the only way its VMs are ever restarted elsewhere.
        actions.append(ObjectAction("Confirm host has been rebooted",
                                    reverse("inventory:host-confirm-rebooted", args=[host.pk]), "pf-m-danger"))
    return actions


def _attachment_actions(obj: Model, prefix: str, service) -> list[ObjectAction]:
    """Storage domains and networks: attach and detach, as their services allow."""
    actions = []
    if obj.status in service.ATTACHABLE_STATES:
        actions.append(ObjectAction("Attach", reverse(f"inventory:{prefix}-attach", args=[obj.pk]), "pf-m-primary"))
    if obj.status in service.DETACHABLE_STATES:
        actions.append(ObjectAction("Detach", reverse(f"inventory:{prefix}-detach", args=[obj.pk])))
    return actions


def object_actions(user, kind: str, obj: Model) -> list[ObjectAction]:
    """The buttons of ``obj``'s page for ``user``, in order; ``kind`` is the
    URL segment of its kind (datacenters, clusters, hosts, storage, networks)."""
    actions = []
    if has_permission(user, "change", obj):
        actions.append(ObjectAction("Edit", reverse("inventory:object-edit", args=[kind, obj.pk]), post=False))
        if isinstance(obj, Host):
            actions += _host_actions(obj)
        elif isinstance(obj, StorageDomain):
            actions += _attachment_actions(obj, "storagedomain", storage_service)
        elif isinstance(obj, Network):
            actions += _attachment_actions(obj, "network", network_service)
        for model, source in _action_sources:
            if isinstance(obj, model):
                actions += source(obj)
    if has_permission(user, "delete", obj):
        actions.append(ObjectAction("Remove", reverse("inventory:object-remove", args=[kind, obj.pk]),
                                    "pf-m-link pf-m-danger", post=False))
    return actions
