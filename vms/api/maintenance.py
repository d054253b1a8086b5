"""GET hosts/<id>/maintenance-plan/ (API.md): the what-if evacuation of a host,
with no side effect. A vms route on a host: the plan needs the host's VMs and
the scheduler, which the inventory app never imports."""

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import PermissionDenied
from inventory.selectors import hosts_visible_to
from vms.services.maintenance import maintenance_plan, maintenance_plan_may_view


class MoveSerializer(serializers.Serializer):
    vm = serializers.IntegerField(source="vm_id")
    vm_name = serializers.CharField()
    to_host = serializers.IntegerField(source="to_host_id")
    to_host_name = serializers.CharField()
    memory_mb = serializers.IntegerField()
    reason = serializers.CharField(help_text="The scheduler's reason for that host.")


class BlockerSerializer(serializers.Serializer):
    vm = serializers.IntegerField(source="vm_id")
    vm_name = serializers.CharField()
    kind = serializers.ChoiceField(choices=["pinned", "not_migratable", "no_room"])
    reason = serializers.CharField()
    restart_host = serializers.IntegerField(source="restart_host_id", allow_null=True,
                                            help_text="not_migratable: where it could start again once stopped.")


class MaintenancePlanSerializer(serializers.Serializer):
    host = serializers.IntegerField(source="host_id")
    feasible = serializers.BooleanField(help_text="Every VM can leave by live migration.")
    moves = MoveSerializer(many=True)
    blockers = BlockerSerializer(many=True)
    memory_mb_moved = serializers.IntegerField()
    estimated_seconds = serializers.FloatField(
        help_text="At most 2 migrations at a time, each copying the VM's memory at the cluster's bandwidth.")


class HostMaintenancePlanView(APIView):
    @extend_schema(responses={200: MaintenancePlanSerializer}, operation_id="hosts_maintenance_plan")
    def get(self, request, pk: int):
        """Which VM would go where if the host went to maintenance now, which
        cannot move and why, the memory that moves and an estimated time."""
        host = hosts_visible_to(request.user).select_related("cluster").filter(pk=pk).first()
        if host is None:
            raise Http404("No such host.")
        if not maintenance_plan_may_view(request.user, host):
            raise PermissionDenied(f"You may not plan maintenance of host {host.name}.")
        return Response(MaintenancePlanSerializer(maintenance_plan(host)).data)
