"""A host's maintenance (API.md): GET hosts/<id>/maintenance-plan/ (the what-if
evacuation, no side effect), POST hosts/<id>/maintenance/ (enter it: the
evacuation starts) and POST hosts/<id>/maintenance/cancel/ (back to up). vms
routes on a host: they need the host's VMs and the scheduler, which the
inventory app never imports."""

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.serializers import JobSerializer
from core.errors import PermissionDenied
from inventory.selectors import hosts_visible_to
from vms.services.maintenance import host_maintenance, maintenance_cancel, maintenance_plan, maintenance_plan_may_view


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


class MaintenanceStartedSerializer(serializers.Serializer):
    plan = MaintenancePlanSerializer()
    jobs = JobSerializer(many=True, help_text="The migrations started now; the others follow as these end.")


def _host_for_maintenance(request, pk: int):
    """The host (404 unless the user sees it), if the user administers it (403)."""
    host = hosts_visible_to(request.user).select_related("cluster").filter(pk=pk).first()
    if host is None:
        raise Http404("No such host.")
    if not maintenance_plan_may_view(request.user, host):
        raise PermissionDenied(f"You may not manage the maintenance of host {host.name}.")
    return host


class HostMaintenancePlanView(APIView):
    @extend_schema(responses={200: MaintenancePlanSerializer}, operation_id="hosts_maintenance_plan")
    def get(self, request, pk: int):
        """Which VM would go where if the host went to maintenance now, which
        cannot move and why, the memory that moves and an estimated time."""
        return Response(MaintenancePlanSerializer(maintenance_plan(_host_for_maintenance(request, pk))).data)


class HostMaintenanceView(APIView):
    @extend_schema(request=None, responses={202: MaintenanceStartedSerializer}, operation_id="hosts_maintenance")
    def post(self, request, pk: int):
        """Enter maintenance (409 unless up): the host goes preparing_for_maintenance
        (no new VM goes there; the SPM role moves), its VMs migrate per the plan
        as a chain of jobs, and it ends in maintenance once empty. Blockers keep
        it preparing, named in its status_reason, until resolved or cancelled."""
        plan, jobs = host_maintenance(host=_host_for_maintenance(request, pk), user=request.user)
        return Response({"plan": MaintenancePlanSerializer(plan).data,
                         "jobs": JobSerializer(jobs, many=True, context={"request": request}).data},
                        status=status.HTTP_202_ACCEPTED)


class HostMaintenanceCancelView(APIView):
    @extend_schema(request=None, responses={200: None}, operation_id="hosts_maintenance_cancel")
    def post(self, request, pk: int):
        """Back to up from preparing_for_maintenance (409 otherwise)."""
        maintenance_cancel(host=_host_for_maintenance(request, pk), user=request.user)
        return Response({"status": "up"})
