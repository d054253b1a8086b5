"""The inventory's REST endpoints; writes and actions go through inventory.services."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from core.api.serializers import JobAcceptedSerializer, JobSerializer
from core.permissions import require_permission
from inventory import selectors, services
from inventory.capacity import clusters_commitment, hosts_commitment
from inventory.filters import (
    ClusterFilterSet,
    DataCenterFilterSet,
    HostFilterSet,
    ImageFilterSet,
    NetworkFilterSet,
    StorageDomainFilterSet,
)
from inventory.services.fencing import FENCE_ACTIONS, host_confirm_rebooted, host_fence_command
from inventory.services.power import host_power_test
from inventory.services.images import image_remove, image_upload
from inventory.uploads import upload_handlers_for, uploaded_file_path
from inventory.api.serializers import (
    ClusterSerializer,
    DataCenterSerializer,
    HostSerializer,
    ImageSerializer,
    NetworkSerializer,
    StorageDomainSerializer,
)

WRITE_METHODS = ["get", "post", "patch", "delete", "head", "options"]


class InventoryViewSet(viewsets.ModelViewSet):
    """Create, edit and remove through the inventory services, with the
    permission to do so checked first; responses are re-read through the
    selector so that derived fields (status, counts) are filled in."""

    http_method_names = WRITE_METHODS
    selector = None

    def get_queryset(self):
        return type(self).selector(self.request.user)

    def reread(self, obj):
        return self.get_queryset().get(pk=obj.pk)

    def job_accepted(self, job):
        body = JobAcceptedSerializer({"job": job}, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_202_ACCEPTED)

    def perform_create(self, serializer):
        require_permission(self.request.user, "create")
        obj = services.object_create(
            model=serializer.Meta.model, fields=serializer.validated_data, user=self.request.user
        )
        serializer.instance = self.reread(obj)

    def perform_update(self, serializer):
        require_permission(self.request.user, "change", serializer.instance)
        obj = services.object_update(obj=serializer.instance, fields=serializer.validated_data, user=self.request.user)
        serializer.instance = self.reread(obj)

    def perform_destroy(self, instance):
        require_permission(self.request.user, "delete", instance)
        services.object_remove(obj=instance, user=self.request.user)


class DataCenterViewSet(InventoryViewSet):
    serializer_class = DataCenterSerializer
    selector = selectors.data_centers_visible_to
    filterset_class = DataCenterFilterSet


class ClusterViewSet(InventoryViewSet):
    serializer_class = ClusterSerializer
    selector = selectors.clusters_visible_to
    filterset_class = ClusterFilterSet

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        self.commitments = clusters_commitment(cluster.pk for cluster in page or [])
        return page

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "commitments": getattr(self, "commitments", None)}


class StorageDomainViewSet(InventoryViewSet):
    serializer_class = StorageDomainSerializer
    selector = selectors.storage_domains_visible_to
    filterset_class = StorageDomainFilterSet

    def perform_update(self, serializer):
        require_permission(self.request.user, "change", serializer.instance)
        domain = services.storage_domain_update(
            domain=serializer.instance, fields=serializer.validated_data, user=self.request.user
        )
        serializer.instance = self.reread(domain)

    def perform_destroy(self, instance):
        require_permission(self.request.user, "delete", instance)
        services.storage_domain_remove(domain=instance, user=self.request.user)

    @extend_schema(request=None, responses={202: JobAcceptedSerializer})
    @action(detail=True, methods=["post"])
    def attach(self, request, pk=None):
        """Create the domain's storage pool on every up host of its data center (a job)."""
        domain = self.get_object()
        require_permission(request.user, "change", domain)
        return self.job_accepted(services.storage_domain_attach(domain=domain, user=request.user))

    @extend_schema(request=None, responses={202: JobAcceptedSerializer})
    @action(detail=True, methods=["post"])
    def detach(self, request, pk=None):
        """Remove the domain's pools from the hosts; the files stay (a job)."""
        domain = self.get_object()
        require_permission(request.user, "change", domain)
        return self.job_accepted(services.storage_domain_detach(domain=domain, user=request.user))


class NetworkViewSet(InventoryViewSet):
    serializer_class = NetworkSerializer
    selector = selectors.networks_visible_to
    filterset_class = NetworkFilterSet

    def perform_create(self, serializer):
        """Through the service: it derives the bridge name and refuses one in use."""
        require_permission(self.request.user, "create")
        network = services.network_create(user=self.request.user, **serializer.validated_data)
        serializer.instance = self.reread(network)

    def perform_update(self, serializer):
        """Bridge, VLAN and MTU change only while unattached (400 saying to detach first)."""
        require_permission(self.request.user, "change", serializer.instance)
        network = services.network_update(
            network=serializer.instance, fields=dict(serializer.validated_data), user=self.request.user
        )
        serializer.instance = self.reread(network)

    def perform_destroy(self, instance):
        """Only an unattached network that no VM NIC uses (409 saying why)."""
        require_permission(self.request.user, "delete", instance)
        services.network_remove(network=instance, user=self.request.user)

    @extend_schema(request=None, responses={202: JobAcceptedSerializer})
    @action(detail=True, methods=["post"])
    def attach(self, request, pk=None):
        """Create the network on every up host of its data center (a job): its own
        Linux bridge, or with a VLAN tagged ports on the hosts' Open vSwitch bridge."""
        network = self.get_object()
        require_permission(request.user, "change", network)
        return self.job_accepted(services.network_attach(network=network, user=request.user))

    @extend_schema(request=None, responses={202: JobAcceptedSerializer})
    @action(detail=True, methods=["post"])
    def detach(self, request, pk=None):
        """Remove the network from every host of its data center, leaving it
        unattached (a job); 409 while VMs' NICs use it."""
        network = self.get_object()
        require_permission(request.user, "change", network)
        return self.job_accepted(services.network_detach(network=network, user=request.user))


class HostViewSet(InventoryViewSet):
    serializer_class = HostSerializer
    selector = selectors.hosts_visible_to
    filterset_class = HostFilterSet

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        self.commitments = hosts_commitment(host.pk for host in page or [])
        return page

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "host_commitments": getattr(self, "commitments", None)}

    @extend_schema(responses={202: inline_serializer(
        "HostAdded", {"host": HostSerializer(), "job": JobSerializer()}
    )})
    def create(self, request, *args, **kwargs):
        """Adding a host is a job: connect, read its facts, bring it up."""
        require_permission(request.user, "create")
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        host, job = services.host_add(user=request.user, **serializer.validated_data)
        context = self.get_serializer_context()
        return Response(
            {"host": HostSerializer(self.reread(host), context=context).data,
             "job": JobSerializer(job, context=context).data},
            status=status.HTTP_202_ACCEPTED,
        )

    def perform_update(self, serializer):
        require_permission(self.request.user, "change", serializer.instance)
        host = services.host_update(host=serializer.instance, fields=dict(serializer.validated_data), user=self.request.user)
        serializer.instance = self.reread(host)

    def perform_destroy(self, instance):
        require_permission(self.request.user, "delete", instance)
        services.host_remove(host=instance, user=self.request.user)

    @extend_schema(request=None, responses={202: JobAcceptedSerializer})
    @action(detail=True, methods=["post"])
    def refresh(self, request, pk=None):
        """Read the host's facts again (a job)."""
        host = self.get_object()
        require_permission(request.user, "change", host)
        return self.job_accepted(services.host_refresh(host=host, user=request.user))

    @extend_schema(request=None, responses={202: JobAcceptedSerializer})
    @action(detail=True, methods=["post"])
    def activate(self, request, pk=None):
        """Bring a host back from maintenance (a job)."""
        host = self.get_object()
        require_permission(request.user, "change", host)
        return self.job_accepted(services.host_activate(host=host, user=request.user))

    @extend_schema(request=None, responses={200: inline_serializer("PowerTest", {"status": serializers.CharField()})})
    @action(detail=True, methods=["post"], url_path="power-test")
    def power_test(self, request, pk=None):
        """Ask the host's BMC for its power status (bounded by a 5 s timeout,
        so it answers in the request, like oVirt's Test button)."""
        host = self.get_object()
        require_permission(request.user, "change", host)
        return Response({"status": host_power_test(host=host, user=request.user, timeout=5)})

    @extend_schema(request=inline_serializer("FenceAction", {"action": serializers.ChoiceField(FENCE_ACTIONS)}),
                   responses={200: inline_serializer("FenceAnswer", {"status": serializers.CharField()}),
                              202: JobAcceptedSerializer})
    @action(detail=True, methods=["post"])
    def fence(self, request, pk=None):
        """The host's power through its BMC: status and start answer at once
        (200 with the power status); stop (confirmed off, its VMs are then
        down and the highly available ones restart elsewhere) and restart (a
        fence) are jobs (202)."""
        host = self.get_object()
        require_permission(request.user, "change", host)
        answer = host_fence_command(host=host, action=str(request.data.get("action", "")), user=request.user)
        if isinstance(answer, str):
            return Response({"status": answer})
        return self.job_accepted(answer)

    @extend_schema(request=None, responses={200: inline_serializer("Confirmed", {"status": serializers.CharField()})})
    @action(detail=True, methods=["post"], url_path="confirm-rebooted")
    def confirm_rebooted(self, request, pk=None):
        """The admin vouches that a non responsive host was rebooted: its VMs
        are down and the highly available ones restart elsewhere (409 unless
        the host is non responsive)."""
        host = self.get_object()
        require_permission(request.user, "change", host)
        host_confirm_rebooted(host=host, user=request.user)
        return Response({"status": "confirmed"})


class ImageViewSet(mixins.DestroyModelMixin, viewsets.ReadOnlyModelViewSet):
    """Upload (multipart, streamed to a temporary file of the portal, then
    through libvirt onto the storage domain by the SPM host) and read images."""

    serializer_class = ImageSerializer
    parser_classes = [MultiPartParser]
    filterset_class = ImageFilterSet

    def get_queryset(self):
        return selectors.images_visible_to(self.request.user)

    def initialize_request(self, request, *args, **kwargs):
        # Before anything reads the body (the session CSRF check does): never in memory.
        if request.method == "POST":
            request.upload_handlers = upload_handlers_for(request)
        return super().initialize_request(request, *args, **kwargs)

    @extend_schema(request={"multipart/form-data": ImageSerializer}, responses={201: ImageSerializer})
    def create(self, request, *args, **kwargs):
        require_permission(request.user, "create")
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        image = image_upload(
            storage_domain=data["storage_domain"], name=data["name"], content=data["content"],
            uploaded_path=uploaded_file_path(data["file"]), user=request.user,
        )
        body = ImageSerializer(self.get_queryset().get(pk=image.pk), context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        require_permission(self.request.user, "delete", instance)
        image_remove(image=instance, user=self.request.user)
