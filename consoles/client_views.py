"""Downloads of native console client files: ``GET vms/<id>/console.vv``
and ``vms/<id>/console.rdp`` on the pages (session) and in the API
(``/api/v1/vms/<id>/console.vv``, ``.rdp``).
Both find the VM among those the user may see (404 otherwise) and call
``consoles.native``; refusals come back as ``{code, detail}`` (API) or as
the page's message on the VM page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_GET
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.views import APIView

from consoles.native import ClientFile, console_rdp_file, console_vv_file
from core.errors import PortalError
from vms.selectors import vms_visible_to


def _download(file: ClientFile) -> HttpResponse:
    response = HttpResponse(file.content, content_type=file.content_type)
    response["Content-Disposition"] = f'attachment; filename="{file.filename}"'
    response["Cache-Control"] = "no-store"  # a password inside: never kept by a cache
    return response


def client_address_of(request) -> str:
    return request.META.get("REMOTE_ADDR", "")


def _page_download(request, pk: int, make):
    vm = get_object_or_404(vms_visible_to(request.user), pk=pk)
    try:
        return _download(make(vm=vm, user=request.user, client=client_address_of(request)))
    except PortalError as error:
        messages.error(request, error.detail)
        return redirect("vms:vm-detail", pk=vm.pk)


@login_required
@require_GET
def vm_console_vv(request, pk: int):
    """The remote-viewer file, or back to the VM page saying why not."""
    return _page_download(request, pk, console_vv_file)


@login_required
@require_GET
def vm_console_rdp(request, pk: int):
    """The RDP file of a Windows guest, or back to the VM page saying why not."""
    return _page_download(request, pk, console_rdp_file)


class VmConsoleVvView(APIView):
    """``GET vms/<id>/console.vv``: a remote-viewer file whose password opens the
    VM's VNC or SPICE console for a short time (403 without console rights, 409
    when the VM has no screen now)."""

    @extend_schema(responses={(200, "application/x-virt-viewer"): OpenApiTypes.BINARY}, operation_id="vms_console_vv")
    def get(self, request, pk: int):
        vm = get_object_or_404(vms_visible_to(request.user), pk=pk)
        return _download(console_vv_file(vm=vm, user=request.user, client=client_address_of(request)))


class VmConsoleRdpView(APIView):
    """``GET vms/<id>/console.rdp``: an RDP file pointing at the Windows guest's
    address as its guest agent reports it (403 without console rights; 409 for
    another OS, a VM not running, or no guest agent answering, saying what to do)."""

    @extend_schema(responses={(200, "application/x-rdp"): OpenApiTypes.BINARY}, operation_id="vms_console_rdp")
    def get(self, request, pk: int):
        vm = get_object_or_404(vms_visible_to(request.user), pk=pk)
        return _download(console_rdp_file(vm=vm, user=request.user, client=client_address_of(request)))
