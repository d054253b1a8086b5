"""Templates in the API (API.md `templates/`): list and read; make one from
a VM that is down or from an uploaded disk image (``vm`` or ``image``, 202
with the job) and delete one (202 with the job), through
vms/services/templates.py, which also says who may do what."""

from django.core.exceptions import ValidationError
from django.http import Http404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from core.api.forms import serializer_from_form
from core.api.serializers import JobAcceptedSerializer, JobSerializer
from core.errors import PermissionDenied
from vms import selectors
from vms.filters import TemplateFilterSet
from inventory.selectors import images_visible_to
from vms.forms import TemplateFromImageForm
from vms.models import Template, TemplateDisk, Vm
from vms.services.templates import (
    template_create_from_image, template_create_from_vm, template_delete, template_may_create,
    template_may_create_from_image, template_may_delete, templates_visible_to,
)

# What only a template made from an image takes: a VM brings its own hardware.
IMAGE_ONLY = ("os_type", "memory_mb", "cpu_sockets", "cpu_cores", "cpu_threads")


class TemplateDiskSerializer(serializers.ModelSerializer):
    class Meta:
        model = TemplateDisk
        fields = ["id", "index", "size_gb", "format", "interface", "bootable", "storage_domain", "path", "status"]
        read_only_fields = fields


class TemplateSerializer(serializer_from_form(
        TemplateFromImageForm, name="TemplateInputs", api_overrides={
            "storage_domain": {"write_only": True},
            "image": {"write_only": True, "required": False, "allow_null": True,
                      "help_text": "Or the uploaded disk image to make it of (not with vm); its format was "
                                   "detected at upload."},
            "os_type": {"required": False,
                        "help_text": "The guest's OS, required with image (a VM brings its own)."},
            "memory_mb": {"required": False, "allow_null": True,
                          "help_text": "With image: the memory (default: the OS type's recommended)."},
            "cpu_sockets": {"write_only": True, "required": False, "allow_null": True},
            "cpu_cores": {"write_only": True, "required": False, "allow_null": True},
            "cpu_threads": {"write_only": True, "required": False, "allow_null": True},
            "seal": {"write_only": True, "allow_null": True, "default": None,
                     "help_text": "Seal the copies with virt-sysprep; null: on for a Linux VM's, off for an "
                                  "image."},
        }), serializers.ModelSerializer):
    vm = serializers.PrimaryKeyRelatedField(queryset=Vm.objects.all(), write_only=True, required=False,
                                            allow_null=True,
                                            help_text="The VM (down) to make the template of (or image).")
    cpu = serializers.SerializerMethodField()
    # A plain string: the VM serializers' console enums already take the schema's name.
    console = serializers.CharField(read_only=True, help_text="vnc or spice, as the VM's.")
    disks = TemplateDiskSerializer(many=True, read_only=True)
    seal_report = serializers.ListField(
        child=serializers.CharField(), read_only=True,
        help_text="What virt-sysprep printed while sealing, one line each (empty until sealed).")

    class Meta:
        model = Template
        fields = ["id", "name", "description", "vm", "image", "storage_domain", "base_template", "version_name",
                  "seal", "data_center", "os_type", "status", "version_number", "sealed", "seal_status",
                  "seal_message", "seal_report", "memory_mb", "cpu_sockets",
                  "cpu_cores", "cpu_threads", "memory_guaranteed_mb", "cpu", "optimization", "console",
                  "nic_models", "created_from_vm", "created_from_image", "created_at", "disks"]
        read_only_fields = ["id", "data_center", "status", "version_number", "sealed", "seal_status",
                            "seal_message", "seal_report", "memory_guaranteed_mb",
                            "optimization", "console", "nic_models", "created_from_vm", "created_from_image",
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
        """Make a template of a VM that is down (409 otherwise, naming its
        status), or of an uploaded disk image converted to qcow2: give one of
        ``vm`` and ``image``."""
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = {key: value for key, value in serializer.validated_data.items() if value is not None}
        vm, image = data.pop("vm", None), data.pop("image", None)
        if (vm is None) == (image is None):
            raise ValidationError({"vm": "Give either a VM (down) or a disk image to make the template of, "
                                         "not both and not neither."})
        if vm is not None:
            template, job = self._from_vm(request, vm, data)
        else:
            template, job = self._from_image(request, image, data)
        context = self.get_serializer_context()
        return Response({"template": TemplateSerializer(template, context=context).data,
                         "job": JobSerializer(job, context=context).data}, status=status.HTTP_202_ACCEPTED)

    @staticmethod
    def _from_vm(request, vm, data):
        given = [name for name in IMAGE_ONLY if name in data]
        if given:
            raise ValidationError({given[0]: f"{', '.join(given)}: a template made from a VM takes the VM's "
                                             "hardware; these are given only with image."})
        vm = selectors.vms_visible_to(request.user).filter(pk=vm.pk).first()
        if vm is None:
            raise Http404("No such VM.")
        if not template_may_create(request.user, vm):
            raise PermissionDenied(f"You may not make a template of VM {vm.name}.")
        return template_create_from_vm(vm=vm, user=request.user, **data)

    @staticmethod
    def _from_image(request, image, data):
        if "os_type" not in data:
            raise ValidationError({"os_type": "Give the operating system: an image has no hardware of its own."})
        image = images_visible_to(request.user).filter(pk=image.pk).first()
        if image is None:
            raise Http404("No such image.")
        if not template_may_create_from_image(request.user, image):
            raise PermissionDenied(f"You may not make a template of image {image.name}.")
        return template_create_from_image(image=image, user=request.user, **data)

    @extend_schema(responses={202: JobAcceptedSerializer})
    def destroy(self, request, *args, **kwargs):
        """Remove the template's disks and then it (409 while it is locked)."""
        template = self.get_object()
        if not template_may_delete(request.user, template):
            raise PermissionDenied(f"You may not delete template {template.name}.")
        job = template_delete(template=template, user=request.user)
        body = JobAcceptedSerializer({"job": job}, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_202_ACCEPTED)
