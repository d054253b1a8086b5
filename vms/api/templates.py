"""Templates in the API (API.md `templates/`): list and read; make one from
a VM that is down (202 with the job) and delete one (202 with the job),
through vms/services/templates.py, which also says who may do what."""

from django.http import Http404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from core.api.forms import serializer_from_form
from core.api.serializers import JobAcceptedSerializer, JobSerializer
from core.errors import PermissionDenied
from vms import selectors
from vms.filters import TemplateFilterSet
from vms.forms import TemplateForm
from vms.models import Template, TemplateDisk, Vm
from vms.services.templates import (
    template_create_from_vm, template_delete, template_may_create, template_may_delete, templates_visible_to,
)


class TemplateDiskSerializer(serializers.ModelSerializer):
    class Meta:
        model = TemplateDisk
        fields = ["id", "index", "size_gb", "format", "interface", "bootable", "storage_domain", "path", "status"]
        read_only_fields = fields


class TemplateSerializer(serializer_from_form(
        TemplateForm, name="TemplateInputs",
        api_overrides={"storage_domain": {"write_only": True},
                       "seal": {"write_only": True, "allow_null": True, "default": None}}),
        serializers.ModelSerializer):
    vm = serializers.PrimaryKeyRelatedField(queryset=Vm.objects.all(), write_only=True,
                                            help_text="The VM (down) to make the template of.")
    cpu = serializers.SerializerMethodField()
    # A plain string: the VM serializers' console enums already take the schema's name.
    console = serializers.CharField(read_only=True, help_text="vnc or spice, as the VM's.")
    disks = TemplateDiskSerializer(many=True, read_only=True)
    seal_report = serializers.ListField(
        child=serializers.CharField(), read_only=True,
        help_text="What virt-sysprep printed while sealing, one line each (empty until sealed).")

    class Meta:
        model = Template
        fields = ["id", "name", "description", "vm", "storage_domain", "base_template", "version_name",
                  "seal", "data_center", "os_type", "status", "version_number", "sealed", "seal_status",
                  "seal_message", "seal_report", "memory_mb", "memory_guaranteed_mb", "cpu", "optimization",
                  "console", "nic_models", "created_from_vm", "created_at", "disks"]
        read_only_fields = ["id", "data_center", "os_type", "status", "version_number", "sealed", "seal_status",
                            "seal_message", "seal_report", "memory_mb",
                            "memory_guaranteed_mb", "optimization", "console", "nic_models", "created_from_vm",
                            "created_at"]
        # The service numbers versions and checks names; DRF's unique-together
        # validator would make base_template required.
        validators = []

    def get_cpu(self, template) -> dict[str, int]:
        return {"sockets": template.cpu_sockets, "cores": template.cpu_cores, "threads": template.cpu_threads}


TemplateMade = inline_serializer("TemplateMade", {"template": TemplateSerializer(), "job": JobSerializer()})


class TemplateViewSet(mixins.CreateModelMixin, mixins.DestroyModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = TemplateSerializer
    filterset_class = TemplateFilterSet

    def get_queryset(self):
        return templates_visible_to(self.request.user).prefetch_related("disks")

    @extend_schema(responses={202: TemplateMade})
    def create(self, request, *args, **kwargs):
        """Make a template of a VM that is down (409 otherwise, naming its status)."""
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        vm = selectors.vms_visible_to(request.user).filter(pk=data.pop("vm").pk).first()
        if vm is None:
            raise Http404("No such VM.")
        if not template_may_create(request.user, vm):
            raise PermissionDenied(f"You may not make a template of VM {vm.name}.")
        template, job = template_create_from_vm(vm=vm, user=request.user, **data)
        context = self.get_serializer_context()
        return Response({"template": TemplateSerializer(template, context=context).data,
                         "job": JobSerializer(job, context=context).data}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses={202: JobAcceptedSerializer})
    def destroy(self, request, *args, **kwargs):
        """Remove the template's disks and then it (409 while it is locked)."""
        template = self.get_object()
        if not template_may_delete(request.user, template):
            raise PermissionDenied(f"You may not delete template {template.name}.")
        job = template_delete(template=template, user=request.user)
        body = JobAcceptedSerializer({"job": job}, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_202_ACCEPTED)
