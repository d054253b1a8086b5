"""Read-only API of jobs and events, narrowed to what the user may see."""

from rest_framework import viewsets

from core import selectors
from core.filters import EventFilterSet, JobFilterSet
from core.api.serializers import EventSerializer, JobSerializer


class JobViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = JobSerializer
    filterset_class = JobFilterSet

    def get_queryset(self):
        return selectors.jobs_visible_to(self.request.user)


class EventViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = EventSerializer
    filterset_class = EventFilterSet

    def get_queryset(self):
        return selectors.events_visible_to(self.request.user)
