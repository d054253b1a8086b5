"""The serial console page (``GET vms/<id>/serial/``): xterm.js in the
browser; its bytes travel through /ws/serial/ (consoles/serial.py)."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from consoles.services import vm_serial_available
from vms.permissions import VM_ACTIONS, vm_may
from vms.selectors import vms_visible_to


@login_required
@require_GET
def vm_serial(request, pk: int):
    """The page asks for a ticket itself, and a new one for each reconnect."""
    vm = get_object_or_404(vms_visible_to(request.user), pk=pk)
    if not vm_may(request.user, "console", vm):
        raise PermissionDenied(f"You may not {VM_ACTIONS['console'].words.format(vm=vm.name)}.")
    return render(request, "consoles/vm_serial.html", {
        "vm": vm,
        "running": vm_serial_available(vm),
        "ticket_url": reverse("api:vm-console", args=[vm.pk]),
        "csrf_token": get_token(request),
    })
