"""A VM's disks in the API (API.md `vms/<id>/disks/`): list, retrieve, PATCH
``size_gb`` to grow one (never shrink: 400), and DELETE, which detaches the
disk and removes its volume. Each change is a job through
vms/services/disks.py, and the VM must be down (409 otherwise)."""

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, viewsets

from core.api.serializers import JobAcceptedSerializer
from vms import selectors
from vms.api.serializers import VmDiskSerializer
from vms.api.views import VmViewSet
from vms.models import VmDisk
from vms.permissions import vm_require
from vms.services.disks import disk_grow, disk_remove


class DiskGrowSerializer(serializers.Serializer):
    size_gb = serializers.IntegerField(min_value=1, help_text="The new size in GiB: more than the disk has.")


@extend_schema(parameters=[OpenApiParameter("vm_pk", int, OpenApiParameter.PATH, description="The VM's id.")])
class VmDiskViewSet(mixins.DestroyModelMixin, viewsets.ReadOnlyModelViewSet):
    """Routed under ``vms/<vm_pk>/disks/``: 404 for a VM the user may not see
    (and for a disk of another VM); removing needs the VM's "disks" action."""

    serializer_class = VmDiskSerializer
    pagination_class = None  # a VM has few disks
    filter_backends = []
    job_accepted = VmViewSet.job_accepted
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema's generator has no VM
            return VmDisk.objects.none()
        vm = selectors.vms_visible_to(self.request.user).filter(pk=self.kwargs["vm_pk"]).first()
        if vm is None:
            raise Http404("No such VM.")
        return VmDisk.objects.filter(vm=vm).select_related("vm")

    @extend_schema(request=DiskGrowSerializer, responses={202: JobAcceptedSerializer})
    def partial_update(self, request, *args, **kwargs):
        """Grow the disk to ``size_gb`` (400 for a shrink or the same size)."""
        disk = self.get_object()
        vm_require(request.user, "disks", disk.vm)
        serializer = DiskGrowSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self.job_accepted(disk_grow(disk=disk, user=request.user, **serializer.validated_data))

    @extend_schema(responses={202: JobAcceptedSerializer})
    def destroy(self, request, *args, **kwargs):
        """Detach the disk and delete its volume (the VM must be down; 409 otherwise)."""
        disk = self.get_object()
        vm_require(request.user, "disks", disk.vm)
        return self.job_accepted(disk_remove(disk=disk, user=request.user))
