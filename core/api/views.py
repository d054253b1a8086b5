from rest_framework import viewsets

from core import selectors
from core.api.serializers import EventSerializer, JobSerializer


class JobViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = JobSerializer
    filterset_fields = ["status", "kind", "target_id"]
    search_fields = ["title", "target_name"]
    ordering_fields = ["created_at", "status", "kind"]

    def get_queryset(self):
        return selectors.jobs_visible_to(self.request.user)


class EventViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = EventSerializer
    filterset_fields = ["severity", "code", "job", "target_id"]
    search_fields = ["message", "target_name"]
    ordering_fields = ["time", "severity"]

    def get_queryset(self):
        return selectors.events_visible_to(self.request.user)
