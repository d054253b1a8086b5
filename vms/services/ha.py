"""High availability: what happens to a host's VMs once the host is known to
run nothing any more (fenced through its BMC, or an admin confirmed it was
rebooted: inventory/services/fencing.py calls this, and only then).

Its VMs are down; the highly available ones start again where the scheduler
puts them (the dead host is not up, so never there), each saying why.
"""

from __future__ import annotations

from core.errors import PortalError
from core.events import event_record
from core.models import Severity
from inventory.models import Host
from vms.choices import VmStatus
from vms.models import Vm
from vms.services.lifecycle import run_once_discard, vm_start
from vms.services.status import vm_set_status


def vms_host_dead(host: Host, why: str) -> None:
    for vm in Vm.objects.filter(host=host, status__in=VmStatus.RUNNING).select_related("cluster"):
        vm_set_status(vm=vm, status=VmStatus.DOWN, expected=VmStatus.RUNNING, reason=f"Down: {why}.")
        run_once_discard(vm=vm)
        if not vm.highly_available:
            continue
        try:
            job = vm_start(vm=vm, user=None)
        except PortalError as error:
            event_record(code="vm.ha_restart_failed", target=vm, severity=Severity.ERROR,
                         message=f"Highly available VM {vm.name} could not be restarted after {why}: {error.detail}")
            continue
        event_record(code="vm.ha_restart", target=vm, job=job, severity=Severity.WARNING,
                     message=f"Highly available VM {vm.name} is restarted on another host: {why}.")
