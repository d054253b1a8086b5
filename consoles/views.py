"""The console page: noVNC in the browser, on the portal's own origin."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from consoles.services import vm_graphics_protocol
from vms.permissions import vm_may
from vms.selectors import vms_visible_to
from vms.services.screenshot import vm_shows_screen


@login_required
@require_GET
def vm_console(request, pk: int):
    """The page asks for a ticket itself (and a new one for each reconnect):
    a ticket lives for seconds, a page for hours."""
    vm = get_object_or_404(vms_visible_to(request.user), pk=pk)
    if not vm_may(request.user, "console", vm):
        raise PermissionDenied(f"You may not open the console of VM {vm.name}.")
    return render(request, "consoles/vm_console.html", {
        "vm": vm,
        "shows_screen": vm_shows_screen(vm),
        "protocol": vm_graphics_protocol(vm),
        "ticket_url": reverse("api:vm-console", args=[vm.pk]),
        "csrf_token": get_token(request),
    })
