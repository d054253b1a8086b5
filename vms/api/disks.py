"""Disks in the API (API.md `vms/<id>/disks/`, plus `disks/` for floating ones).

``vms/<id>/disks/``: list and retrieve (with the volume's virtual and actual
size and its backing chain, read from the SPM host); POST adds a new disk
(202, a job) or, given ``disk``, attaches a floating one (200); PATCH
``size_gb`` grows one (never shrink: 400); ``move/`` copies it to another
storage domain (202, a job with progress); ``detach/`` makes it float (200);
DELETE detaches it and removes its volume (202). Each change goes through
vms/services/disks.py, and the VM must be down (409 otherwise).

``disks/``: the floating disks the user may see; DELETE removes one (202)."""

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api.serializers import JobAcceptedSerializer
from inventory.models import StorageDomain
from vms import selectors
from vms.api.serializers import VmDiskSerializer
from vms.api.views import VmViewSet
from vms.models import VmDisk
from vms.permissions import floating_disk_may, floating_disks_visible_to, vm_require
from vms.services.disk_facts import DISK_FACTS_RELATED, disk_facts
from vms.services.disks import disk_add, disk_attach, disk_detach, disk_grow, disk_move, disk_remove
from vms.services.requests import DiskRequest


class DiskGrowSerializer(serializers.Serializer):
    size_gb = serializers.IntegerField(min_value=1, help_text="The new size in GiB: more than the disk has.")


class DiskMoveSerializer(serializers.Serializer):
    storage_domain = serializers.PrimaryKeyRelatedField(
        queryset=StorageDomain.objects.all(),
        help_text="The storage domain to move the disk to: a data domain of the VM's data center.")


class DiskAttachSerializer(serializers.Serializer):
    disk = serializers.IntegerField(help_text="A floating disk's id: it is attached instead of a new disk made.")


class BackingLinkSerializer(serializers.Serializer):
    path = serializers.CharField()
    format = serializers.CharField()
    template_disk = serializers.DictField(allow_null=True, help_text="{template, template_name, disk, index} "
                                          "when the file is a template's disk, else null.")


class DiskSerializer(VmDiskSerializer):
    """A disk with what its volume holds now (null when the SPM host cannot say)."""

    vm = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    virtual_size_bytes = serializers.SerializerMethodField()
    actual_size_bytes = serializers.SerializerMethodField()
    backing_chain = serializers.SerializerMethodField()

    class Meta(VmDiskSerializer.Meta):
        fields = [*VmDiskSerializer.Meta.fields, "vm", "alias", "virtual_size_bytes", "actual_size_bytes",
                  "backing_chain"]
        read_only_fields = [*VmDiskSerializer.Meta.read_only_fields, "vm", "alias"]

    def _facts(self, disk):
        facts = self.context.get("disk_facts")
        if facts is None or disk.pk not in facts:
            facts = self.context["disk_facts"] = {**(facts or {}), **disk_facts([disk])}
        return facts[disk.pk]

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_virtual_size_bytes(self, disk):
        return self._facts(disk).virtual_size_bytes

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_actual_size_bytes(self, disk):
        return self._facts(disk).actual_size_bytes

    @extend_schema_field(BackingLinkSerializer(many=True))
    def get_backing_chain(self, disk):
        return [link.as_dict() for link in self._facts(disk).backing_chain]


class _DiskFactsMixin:
    """Reads every listed disk's facts in one go, not one serializer call at a time."""

    def list(self, request, *args, **kwargs):
        disks = list(self.filter_queryset(self.get_queryset()))
        context = {**self.get_serializer_context(), "disk_facts": disk_facts(disks)}
        return Response(DiskSerializer(disks, many=True, context=context).data)


@extend_schema(parameters=[OpenApiParameter("vm_pk", int, OpenApiParameter.PATH, description="The VM's id.")])
class VmDiskViewSet(_DiskFactsMixin, mixins.DestroyModelMixin, viewsets.ReadOnlyModelViewSet):
    """Routed under ``vms/<vm_pk>/disks/``: 404 for a VM the user may not see
    (and for a disk of another VM); changes need the VM's "disks" action."""

    serializer_class = DiskSerializer
    pagination_class = None  # a VM has few disks
    filter_backends = []
    job_accepted = VmViewSet.job_accepted
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def _vm(self):
        vm = selectors.vms_visible_to(self.request.user).filter(pk=self.kwargs["vm_pk"]).first()
        if vm is None:
            raise Http404("No such VM.")
        return vm

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema's generator has no VM
            return VmDisk.objects.none()
        return VmDisk.objects.filter(vm=self._vm()).select_related("vm", *DISK_FACTS_RELATED)

    @extend_schema(request=VmDiskSerializer, responses={202: JobAcceptedSerializer, 200: DiskSerializer})
    def create(self, request, *args, **kwargs):
        """Add a disk to the (down) VM: a new empty volume, or a copy of
        ``image`` (202, a job); or, with ``disk`` (a floating disk's id),
        attach that one (200)."""
        vm = self._vm()
        vm_require(request.user, "disks", vm)
        if "disk" in request.data:
            attach = DiskAttachSerializer(data=request.data)
            attach.is_valid(raise_exception=True)
            disk = floating_disks_visible_to(request.user).filter(pk=attach.validated_data["disk"]).first()
            if disk is None:
                raise serializers.ValidationError({"disk": "No floating disk with that id that you may attach."})
            disk = disk_attach(vm=vm, disk=disk, user=request.user)
            return Response(DiskSerializer(disk, context=self.get_serializer_context()).data)
        serializer = VmDiskSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self.job_accepted(disk_add(vm=vm, user=request.user, request=DiskRequest(**serializer.validated_data)))

    @extend_schema(request=DiskGrowSerializer, responses={202: JobAcceptedSerializer})
    def partial_update(self, request, *args, **kwargs):
        """Grow the disk to ``size_gb`` (400 for a shrink or the same size)."""
        disk = self.get_object()
        vm_require(request.user, "disks", disk.vm)
        serializer = DiskGrowSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self.job_accepted(disk_grow(disk=disk, user=request.user, **serializer.validated_data))

    @extend_schema(request=DiskMoveSerializer, responses={202: JobAcceptedSerializer})
    @action(detail=True, methods=["post"])
    def move(self, request, *args, **kwargs):
        """Copy the disk to ``storage_domain`` (a job with the copy's
        progress), switch the VM to the copy and delete the old volume. 409
        when the target lacks room (checked before anything is written)."""
        disk = self.get_object()
        vm_require(request.user, "disks", disk.vm)
        serializer = DiskMoveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self.job_accepted(disk_move(disk=disk, user=request.user, **serializer.validated_data))

    @extend_schema(request=None, responses={200: DiskSerializer})
    @action(detail=True, methods=["post"])
    def detach(self, request, *args, **kwargs):
        """The disk leaves the (down) VM and floats (listed in ``disks/``),
        with its data, until it is attached again or removed."""
        disk = self.get_object()
        vm_require(request.user, "disks", disk.vm)
        disk = disk_detach(disk=disk, user=request.user)
        return Response(DiskSerializer(disk, context=self.get_serializer_context()).data)

    @extend_schema(responses={202: JobAcceptedSerializer})
    def destroy(self, request, *args, **kwargs):
        """Detach the disk and delete its volume (the VM must be down; 409 otherwise)."""
        disk = self.get_object()
        vm_require(request.user, "disks", disk.vm)
        return self.job_accepted(disk_remove(disk=disk, user=request.user))


class FloatingDiskViewSet(_DiskFactsMixin, mixins.DestroyModelMixin, viewsets.ReadOnlyModelViewSet):
    """``disks/``: floating disks (detached from their VM), seen by the system
    admins and by each disk's owner. Attach one with POST vms/<id>/disks/
    ``{disk}``; DELETE removes it and its volume (202, a job)."""

    serializer_class = DiskSerializer
    filter_backends = []
    job_accepted = VmViewSet.job_accepted
    http_method_names = ["get", "delete", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return VmDisk.objects.none()
        return floating_disks_visible_to(self.request.user).select_related(*DISK_FACTS_RELATED)

    @extend_schema(responses={202: JobAcceptedSerializer})
    def destroy(self, request, *args, **kwargs):
        """Remove the floating disk and its volume."""
        disk = self.get_object()
        if not floating_disk_may(request.user, disk):  # the queryset's rule; said once more where it acts
            raise Http404
        return self.job_accepted(disk_remove(disk=disk, user=request.user))

