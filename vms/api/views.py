"""The VM API: the catalogue, instance types, VMs and their actions, each through one service."""

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api.serializers import JobAcceptedSerializer, JobSerializer
from core.objects import object_create, object_remove, object_update
from core.permissions import has_permission, require_permission
from vms import selectors
from vms.api.serializers import (InstanceTypeSerializer, MigrateSerializer, OperatingSystemSerializer,
                                 RunOnceSerializer, VmEditSerializer, VmSerializer)
from vms.filters import InstanceTypeFilterSet, OperatingSystemFilterSet, VmFilterSet
from vms.forms import migrate_arguments, run_once_arguments
from vms.models import InstanceType
from vms.permissions import vm_require
from vms.services import lifecycle
from vms.services.edit import vm_edit
from vms.services.migration import vm_migrate
from vms.services.templates import templates_visible_to
from vms.services.screenshot import vm_screenshot_png


class OperatingSystemViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = OperatingSystemSerializer
    filterset_class = OperatingSystemFilterSet
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        return selectors.operating_systems()


class InstanceTypeViewSet(viewsets.ModelViewSet):
    """Hardware presets; everyone may read them, admins edit them."""

    serializer_class = InstanceTypeSerializer
    filterset_class = InstanceTypeFilterSet
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return selectors.instance_types()

    def perform_create(self, serializer):
        require_permission(self.request.user, "create")
        serializer.instance = object_create(model=InstanceType, fields=serializer.validated_data,
                                            user=self.request.user)

    def perform_update(self, serializer):
        require_permission(self.request.user, "change", serializer.instance)
        serializer.instance = object_update(obj=serializer.instance, fields=serializer.validated_data,
                                            user=self.request.user)

    def perform_destroy(self, instance):
        require_permission(self.request.user, "delete", instance)
        object_remove(obj=instance, user=self.request.user)


VmCreated = inline_serializer("VmCreated", {"vm": VmSerializer(), "job": JobSerializer()})
VmEdited = inline_serializer("VmEdited", {"vm": VmSerializer(), "job": JobSerializer()})


class VmViewSet(mixins.CreateModelMixin, mixins.DestroyModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = VmSerializer
    filterset_class = VmFilterSet

    def get_queryset(self):
        # The serializer writes related objects as ids: only the owner's name needs a join.
        return (selectors.vms_visible_to(self.request.user).select_related(None)
                .select_related("owner", "initialization").prefetch_related("disks", "nics"))

    def job_accepted(self, job):
        body = JobAcceptedSerializer({"job": job}, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses={202: VmCreated})
    def create(self, request, *args, **kwargs):
        """Creating a VM is a job: its disks are created and it is defined on
        the host the scheduler chose (409 when no host fits, saying why)."""
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        cluster = serializer.validated_data["cluster"]
        if not (has_permission(request.user, "create") or has_permission(request.user, "create", cluster)):
            require_permission(request.user, "create", cluster)
        template = serializer.validated_data.get("template")
        if template is not None and not templates_visible_to(request.user).filter(pk=template.pk).exists():
            raise ValidationError({"template": f'Invalid pk "{template.pk}" - object does not exist.'})
        vm, job = lifecycle.vm_create(request=serializer.vm_request(), user=request.user)
        context = self.get_serializer_context()
        return Response(
            {"vm": VmSerializer(self.get_queryset().get(pk=vm.pk), context=context).data,
             "job": JobSerializer(job, context=context).data},
            status=status.HTTP_202_ACCEPTED,
        )

    @extend_schema(responses={202: JobAcceptedSerializer})
    def destroy(self, request, *args, **kwargs):
        """Only a VM that is down; its disks are removed by the job."""
        vm = self._vm_for("delete")
        return self.job_accepted(lifecycle.vm_delete(vm=vm, user=request.user))

    @extend_schema(request=VmEditSerializer, responses={200: VmSerializer, 202: VmEdited})
    def partial_update(self, request, *args, **kwargs):
        """Edit the VM's own settings, checked as at creation (400 per field,
        nothing changed). A down VM changes at once (200); a running one takes
        what it can at once (200), changes memory and vCPUs live by a job (202
        with the VM and the job), and keeps the rest as its ``next_run``
        configuration until its next start. 409 when it is neither."""
        vm = self._vm_for("edit")
        changes = VmEditSerializer(data=request.data, partial=True)
        changes.is_valid(raise_exception=True)
        vm, job = vm_edit(vm=vm, user=request.user, changes=dict(changes.validated_data))
        context = self.get_serializer_context()
        body = VmSerializer(self.get_queryset().get(pk=vm.pk), context=context).data
        if job is None:
            return Response(body)
        return Response({"vm": body, "job": JobSerializer(job, context=context).data},
                        status=status.HTTP_202_ACCEPTED)

    def _vm_for(self, action_name: str):
        """The VM (404 when the user may not see it), if the user may do
        ``action_name`` to it (403 otherwise): vms.permissions decides, as for the pages."""
        vm = self.get_object()
        vm_require(self.request.user, action_name, vm)
        return vm

    def _action(self, service, action_name: str):
        vm = self._vm_for(action_name)
        return self.job_accepted(service(vm=vm, user=self.request.user))

    @extend_schema(request=None, responses={202: JobAcceptedSerializer})
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        """Start on the host the scheduler picks (409 with each host's reason when none fits)."""
        return self._action(lifecycle.vm_start, "start")

    @extend_schema(request=None, responses={202: JobAcceptedSerializer})
    @action(detail=True, methods=["post"])
    def shutdown(self, request, pk=None):
        """Ask the guest to shut down; power off after the cluster's timeout."""
        return self._action(lifecycle.vm_shutdown, "shutdown")

    @extend_schema(request=None, responses={202: JobAcceptedSerializer})
    @action(detail=True, methods=["post"])
    def poweroff(self, request, pk=None):
        return self._action(lifecycle.vm_poweroff, "poweroff")

    @extend_schema(request=None, responses={202: JobAcceptedSerializer})
    @action(detail=True, methods=["post"])
    def reboot(self, request, pk=None):
        return self._action(lifecycle.vm_reboot, "reboot")

    @extend_schema(request=None, responses={202: JobAcceptedSerializer})
    @action(detail=True, methods=["post"])
    def suspend(self, request, pk=None):
        return self._action(lifecycle.vm_suspend, "suspend")

    @extend_schema(request=None, responses={202: JobAcceptedSerializer})
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        return self._action(lifecycle.vm_resume, "resume")

    @extend_schema(responses={(200, "image/png"): OpenApiTypes.BINARY})
    def screenshot(self, request, pk=None):
        """The guest's screen now (409 when the VM is not running or headless).
        Routed as ``vms/<id>/screenshot.png`` (no trailing slash: it is a file)."""
        vm = self.get_object()
        return HttpResponse(vm_screenshot_png(vm=vm, user=request.user), content_type="image/png",
                            headers={"Cache-Control": "no-store"})

    @extend_schema(request=RunOnceSerializer, responses={202: JobAcceptedSerializer})
    @action(detail=True, methods=["post"], url_path="run-once")
    def run_once(self, request, pk=None):
        """Start once with one-off options that are not saved."""
        vm = self._vm_for("run_once")
        options = RunOnceSerializer(data=request.data)
        options.is_valid(raise_exception=True)
        job = lifecycle.vm_run_once(vm=vm, user=request.user, **run_once_arguments(options.validated_data))
        return self.job_accepted(job)

    @extend_schema(request=MigrateSerializer, responses={202: JobAcceptedSerializer})
    @action(detail=True, methods=["post"])
    def migrate(self, request, pk=None):
        """Live-migrate to ``host``, or to the host the scheduler picks (409
        with each host's reason when none fits, or when the VM is not up).
        The job's progress is libvirt's; its ``result`` ends with
        ``{total_ms, downtime_ms, data_bytes}``; ``jobs/<id>/cancel/`` stops it."""
        vm = self._vm_for("migrate")
        options = MigrateSerializer(data=request.data)
        options.is_valid(raise_exception=True)
        return self.job_accepted(vm_migrate(vm=vm, user=request.user, **migrate_arguments(options.validated_data)))
