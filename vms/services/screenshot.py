"""The guest's screen, read from libvirt's screenshot API when asked (the
VM page's thumbnail, ``GET vms/<id>/screenshot.png``)."""

from __future__ import annotations

import hypervisor
from core.errors import Conflict, HypervisorUnavailable
from vms.choices import ConsoleType, VmStatus
from vms.models import Vm

SCREEN_CONNECT_TIMEOUT_SECONDS = 2.0
# The statuses in which the guest has a screen to show (the VM page's thumbnail polls).
SHOWS_A_SCREEN = (VmStatus.UP, VmStatus.PAUSED, VmStatus.POWERING_UP, VmStatus.POWERING_DOWN,
                  VmStatus.REBOOT_IN_PROGRESS)


def vm_screenshot_png(*, vm: Vm, max_width: int | None = None) -> bytes:
    if vm.status not in SHOWS_A_SCREEN or vm.host is None:
        raise Conflict(f"VM {vm.name} is {VmStatus.label(vm.status).lower()}; there is no screen to show.")
    if vm.console == ConsoleType.NONE and not vm.run_once:
        raise Conflict(f"VM {vm.name} is headless; it has no screen (use its serial console).")
    try:
        # Answered inside the page's request: a host that stopped answering
        # must cost a couple of seconds, not a hung request.
        hypervisor.check_connection(vm.host.uri, timeout=SCREEN_CONNECT_TIMEOUT_SECONDS)
        return hypervisor.domain_screenshot_png(vm.host.uri, str(vm.uuid), max_width=max_width)
    except hypervisor.HypervisorError as error:
        raise HypervisorUnavailable(f"The screen of VM {vm.name} could not be read: {error.message}") from error
