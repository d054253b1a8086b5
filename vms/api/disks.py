"""A VM's disks in the API (API.md `vms/<id>/disks/`): list, retrieve, and
DELETE, which detaches the disk and removes its volume (a job, through
vms/services/disks.py; the VM must be down)."""

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, viewsets

from core.api.serializers import JobAcceptedSerializer
from vms import selectors
from vms.api.serializers import VmDiskSerializer
from vms.api.views import VmViewSet
from vms.models import VmDisk
from vms.permissions import vm_require
from vms.services.disks import disk_remove


@extend_schema(parameters=[OpenApiParameter("vm_pk", int, OpenApiParameter.PATH, description="The VM's id.")])
class VmDiskViewSet(mixins.DestroyModelMixin, viewsets.ReadOnlyModelViewSet):
    """Routed under ``vms/<vm_pk>/disks/``: 404 for a VM the user may not see
    (and for a disk of another VM); removing needs the VM's "disks" action."""

    serializer_class = VmDiskSerializer
    pagination_class = None  # a VM has few disks
    filter_backends = []
    job_accepted = VmViewSet.job_accepted

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema's generator has no VM
            return VmDisk.objects.none()
        vm = selectors.vms_visible_to(self.request.user).filter(pk=self.kwargs["vm_pk"]).first()
        if vm is None:
            raise Http404("No such VM.")
        return VmDisk.objects.filter(vm=vm).select_related("vm")

    @extend_schema(responses={202: JobAcceptedSerializer})
    def destroy(self, request, *args, **kwargs):
        """Detach the disk and delete its volume (the VM must be down; 409 otherwise)."""
        disk = self.get_object()
        vm_require(request.user, "disks", disk.vm)
        return self.job_accepted(disk_remove(disk=disk, user=request.user))
