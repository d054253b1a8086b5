"""Read-only API of jobs and events, narrowed to what the user may see."""

from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core import selectors
from core.filters import EventFilterSet, JobFilterSet
from core.api.serializers import EventSerializer, JobSerializer
from core.jobs import job_cancel


class JobViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = JobSerializer
    filterset_class = JobFilterSet

    def get_queryset(self):
        return selectors.jobs_visible_to(self.request.user)

    @extend_schema(request=None, responses={200: JobSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Ask a cancellable job (a migration) to stop: 200 with the job, its
        ``cancel_requested`` set; it ends cancelled within a moment. 409 for a
        job that has ended or whose kind cannot be cancelled."""
        job = self.get_object()  # who may see a job (who started it, or an admin) may cancel it
        return Response(JobSerializer(job_cancel(job=job, user=request.user), context={"request": request}).data)


class EventViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = EventSerializer
    filterset_class = EventFilterSet

    def get_queryset(self):
        return selectors.events_visible_to(self.request.user)
