"""Who may do what to a VM: one rule for every face (the VM pages, the API,
the screenshot service, live updates and console tickets).

The owner may do anything to their VM; anyone else needs a grant (see
core.permissions) of one of the permissions the action names. Whether the
VM's status allows the action is its lifecycle service's rule, not this one."""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import PermissionDenied
from core.permissions import has_permission, is_system_admin, user_ids_allowed
from vms.models import Vm, VmDisk


@dataclass(frozen=True)
class VmAction:
    name: str
    grants: tuple[str, ...]  # any one of these granted permissions allows the action
    words: str  # "You may not <words>.", with {vm} for the VM's name
    owner_may: bool = True  # False: a decision about hosts, not the VM's owner's to make


VM_ACTIONS = {action.name: action for action in (
    VmAction("view", ("view",), "see VM {vm}"),
    VmAction("start", ("operate",), "start VM {vm}"),
    VmAction("shutdown", ("operate",), "shut down VM {vm}"),
    VmAction("poweroff", ("operate",), "power off VM {vm}"),
    VmAction("reboot", ("operate",), "reboot VM {vm}"),
    VmAction("suspend", ("operate",), "suspend VM {vm}"),
    VmAction("resume", ("operate",), "resume VM {vm}"),
    VmAction("run_once", ("operate",), "run VM {vm} once"),
    VmAction("edit", ("change",), "edit VM {vm}"),
    VmAction("delete", ("delete",), "delete VM {vm}"),
    # DOMAIN.md: managing a VM's snapshots is the UserVmManager's, beside edit and delete.
    VmAction("snapshots", ("snapshots",), "manage the snapshots of VM {vm}"),
    # DOMAIN.md: the UserVmManager manages a VM's disks, as its snapshots.
    VmAction("disks", ("disks",), "manage the disks of VM {vm}"),
    # The screen is the console's picture: whoever may use the console sees it.
    VmAction("screenshot", ("operate", "console"), "see the screen of VM {vm}"),
    VmAction("console", ("operate", "console"), "open the console of VM {vm}"),
    # Choosing hosts is the cluster's admins' (oVirt: MIGRATE_VM is not the UserVmManager's).
    VmAction("migrate", ("migrate",), "migrate VM {vm}", owner_may=False),
)}


def _is_owner(user, vm: Vm) -> bool:
    # An external VM has no owner: None must not match an anonymous user's None.
    return bool(user and user.is_authenticated and vm.owner_id is not None and vm.owner_id == user.pk)


def vm_may(user, action: str, vm: Vm) -> bool:
    """Whether ``user`` may do ``action`` (a key of VM_ACTIONS) to ``vm``."""
    rule = VM_ACTIONS[action]
    return (rule.owner_may and _is_owner(user, vm)) or any(has_permission(user, grant, vm) for grant in rule.grants)


def vm_require(user, action: str, vm: Vm) -> None:
    """vm_may, or PermissionDenied (403) saying what was refused."""
    if not vm_may(user, action, vm):
        raise PermissionDenied(f"You may not {VM_ACTIONS[action].words.format(vm=vm.name)}.")


def vm_user_ids_allowed(action: str, vm: Vm) -> set[int]:
    """The users (besides the system admins) who may do ``action`` to ``vm``:
    its owner and everyone granted; whom a live update about it goes to."""
    ids = set().union(*(user_ids_allowed(grant, vm) for grant in VM_ACTIONS[action].grants))
    return ids | ({vm.owner_id} if vm.owner_id is not None else set())


def floating_disk_may(user, disk: VmDisk) -> bool:
    """A floating disk (detached, no VM) is seen, attached and removed by the
    system admins and by its owner (the owner of the VM it left)."""
    if not (user and user.is_authenticated):
        return False
    return (disk.owner_id is not None and disk.owner_id == user.pk) or is_system_admin(user)


def floating_disks_visible_to(user):
    """The floating disks ``user`` may see (floating_disk_may's rule, as a query)."""
    floating = VmDisk.objects.filter(vm=None).select_related("storage_domain", "owner")
    if is_system_admin(user):
        return floating
    if not (user and user.is_authenticated):
        return floating.none()
    return floating.filter(owner=user)
