"""The wire shapes of jobs and events; the live updates reuse the job's."""

from rest_framework import serializers

from core.api.fields import TargetField
from core.models import Event, Job


class JobSerializer(serializers.HyperlinkedModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:job-detail")
    target = TargetField()
    user = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Job
        fields = [
            "id", "url", "kind", "title", "status", "progress", "steps", "target", "error",
            "user", "created_at", "started_at", "ended_at",
        ]
        read_only_fields = fields


class EventSerializer(serializers.HyperlinkedModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:event-detail")
    target = TargetField()
    user = serializers.SlugRelatedField(slug_field="username", read_only=True)
    job = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = Event
        fields = ["id", "url", "time", "severity", "code", "message", "user", "target", "job"]
        read_only_fields = fields


class JobAcceptedSerializer(serializers.Serializer):
    """The 202 answer of every action that starts long work (API.md)."""

    job = JobSerializer(read_only=True)
