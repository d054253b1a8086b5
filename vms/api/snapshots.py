"""A VM's snapshots in the API (API.md `vms/<id>/snapshots/`): list as a tree,
take, restore and delete, each through vms/services/snapshots.py."""

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api.serializers import JobAcceptedSerializer, JobSerializer
from vms import selectors
from vms.api.views import VmViewSet
from vms.models import VmSnapshot
from vms.permissions import vm_require
from vms.services.snapshots import snapshot_create, snapshot_delete, snapshot_depth, snapshot_restore, snapshot_tree


@extend_schema_field(OpenApiTypes.INT)
class DepthField(serializers.Field):
    """How deep in its VM's chain: 1 for a root. A list hands the depths it
    computed once for the tree (context ``depths``)."""

    def __init__(self, **kwargs):
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, snapshot):
        return self.context.get("depths", {}).get(snapshot.pk) or snapshot_depth(snapshot)


class VmSnapshotSerializer(serializers.ModelSerializer):
    include_memory = serializers.BooleanField(
        write_only=True, required=False, allow_null=True, default=None,
        help_text="Save the memory too: required for a running VM, impossible for one that is down "
                  "(default: as the VM's state allows).",
    )
    depth = DepthField()

    class Meta:
        model = VmSnapshot
        fields = ["id", "vm", "name", "description", "include_memory", "status", "created_at", "parent",
                  "has_memory", "size_bytes", "depth"]
        read_only_fields = ["id", "vm", "name", "status", "created_at", "parent", "has_memory", "size_bytes"]


SnapshotTaken = inline_serializer("SnapshotTaken", {"snapshot": VmSnapshotSerializer(), "job": JobSerializer()})


@extend_schema(parameters=[OpenApiParameter("vm_pk", int, OpenApiParameter.PATH, description="The VM's id.")])
class VmSnapshotViewSet(mixins.CreateModelMixin, mixins.DestroyModelMixin, viewsets.ReadOnlyModelViewSet):
    """Routed under ``vms/<vm_pk>/snapshots/``: 404 for a VM the user may not
    see; taking, restoring and deleting need the VM's "snapshots" action."""

    serializer_class = VmSnapshotSerializer
    pagination_class = None  # a VM has few snapshots, and a tree reads whole
    filter_backends = []
    job_accepted = VmViewSet.job_accepted

    def get_vm(self):
        if not hasattr(self, "_vm"):
            self._vm = selectors.vms_visible_to(self.request.user).filter(pk=self.kwargs["vm_pk"]).first()
            if self._vm is None:
                raise Http404("No such VM.")
        return self._vm

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema's generator has no VM
            return VmSnapshot.objects.none()
        return VmSnapshot.objects.filter(vm=self.get_vm())

    def list(self, request, *args, **kwargs):
        """The VM's snapshots depth first, each after its parent, with its depth."""
        nodes = snapshot_tree(self.get_vm())
        context = {**self.get_serializer_context(), "depths": {node.snapshot.pk: node.depth for node in nodes}}
        return Response(VmSnapshotSerializer([node.snapshot for node in nodes], many=True, context=context).data)

    @extend_schema(responses={202: SnapshotTaken})
    def create(self, request, *args, **kwargs):
        """Take a snapshot: with memory while the VM runs (it keeps running), of the
        disks only when it is down. 409 when its storage cannot hold it."""
        vm = self.get_vm()
        vm_require(request.user, "snapshots", vm)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        snapshot, job = snapshot_create(vm=vm, user=request.user, **serializer.validated_data)
        context = self.get_serializer_context()
        return Response({"snapshot": VmSnapshotSerializer(snapshot, context=context).data,
                         "job": JobSerializer(job, context=context).data}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses={202: JobAcceptedSerializer})
    def destroy(self, request, *args, **kwargs):
        snapshot = self.get_object()
        vm_require(request.user, "snapshots", snapshot.vm)
        return self.job_accepted(snapshot_delete(snapshot=snapshot, user=request.user))

    @extend_schema(request=None, responses={202: JobAcceptedSerializer})
    @action(detail=True, methods=["post"])
    def restore(self, request, *args, **kwargs):
        """Bring the VM back to this snapshot (running where it was, for one with memory)."""
        snapshot = self.get_object()
        vm_require(request.user, "snapshots", snapshot.vm)
        return self.job_accepted(snapshot_restore(snapshot=snapshot, user=request.user))
