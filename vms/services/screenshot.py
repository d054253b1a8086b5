"""The guest's screen, read from libvirt's screenshot API when asked (the
VM page's thumbnail, ``GET vms/<id>/screenshot.png``). Who may see it is
decided here, so the page and the API cannot disagree."""

from __future__ import annotations

import hypervisor
from core.errors import Conflict, HypervisorUnavailable
from vms.choices import VmStatus
from vms.models import Vm
from vms.permissions import vm_require

SCREEN_CONNECT_TIMEOUT_SECONDS = 2.0
# The statuses in which the guest has a screen to show (the VM page's thumbnail polls).
SHOWS_A_SCREEN = (VmStatus.UP, VmStatus.PAUSED, VmStatus.POWERING_UP, VmStatus.POWERING_DOWN,
                  VmStatus.REBOOT_IN_PROGRESS)


def no_screen_because(vm: Vm) -> str | None:
    """Why there is no screen to read now, or None when there is one."""
    if vm.status not in SHOWS_A_SCREEN or vm.host_id is None:
        return f"VM {vm.name} is {VmStatus.label(vm.status).lower()}; there is no screen to show."
    if vm.is_headless and not vm.run_once:  # a Run Once start may give a headless VM a console
        return f"VM {vm.name} is headless; it has no screen (use its serial console)."
    return None


def vm_shows_screen(vm: Vm) -> bool:
    return no_screen_because(vm) is None


def vm_screenshot_png(*, vm: Vm, user, max_width: int | None = None) -> bytes:
    """The screen as a PNG, for whoever may use the VM's console (403 for
    others); 409 when there is none, 503 when its host does not answer."""
    vm_require(user, "screenshot", vm)
    if reason := no_screen_because(vm):
        raise Conflict(reason)
    try:
        # Answered inside the page's request: a host that stopped answering
        # must cost a couple of seconds, not a hung request.
        hypervisor.check_connection(vm.host.uri, timeout=SCREEN_CONNECT_TIMEOUT_SECONDS)
        return hypervisor.domain_screenshot_png(vm.host.uri, str(vm.uuid), max_width=max_width)
    except hypervisor.HypervisorError as error:
        raise HypervisorUnavailable(f"The screen of VM {vm.name} could not be read: {error.message}") from error
