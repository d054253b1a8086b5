"""``POST vms/<id>/console/``: a console ticket (API.md, Consoles)."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from consoles.models import ConsoleProtocol
from consoles.services import console_ticket_issue
from vms.selectors import vms_visible_to


class ConsoleTicketRequestSerializer(serializers.Serializer):
    protocol = serializers.ChoiceField(choices=ConsoleProtocol.choices(), required=False,
                                       help_text="Defaults to the VM's own console (vnc or spice).")


class ConsoleTicketSerializer(serializers.Serializer):
    ticket = serializers.CharField(help_text="Shown once; valid for one connection, for CONSOLE_TICKET_SECONDS.")
    expires_at = serializers.DateTimeField()
    protocol = serializers.CharField()
    websocket_path = serializers.CharField(help_text="A path on this portal's origin (carries the ticket).")
    page_url = serializers.CharField(help_text="The console page of the VM.")
    password = serializers.CharField(
        allow_null=True, help_text="The one-time password the VM's VNC or SPICE server asks for, valid as long "
        "as the ticket; null when it asks for none (and for the serial console).")


class VmConsoleTicketView(APIView):
    @extend_schema(request=ConsoleTicketRequestSerializer, responses={200: ConsoleTicketSerializer},
                   operation_id="vms_console_create")
    def post(self, request, pk: int):
        """A single-use, short-lived ticket to open the VM's console, bound to
        this user and VM (403 without console rights: nothing is stored;
        409 when the VM has no such console now)."""
        vm = get_object_or_404(vms_visible_to(request.user), pk=pk)
        body = ConsoleTicketRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        issued = console_ticket_issue(user=request.user, vm=vm,
                                      protocol=body.validated_data.get("protocol") or vm.console)
        return Response(ConsoleTicketSerializer(issued).data)
