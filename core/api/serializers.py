"""The wire shapes of jobs and events; the live updates reuse the job's."""

from rest_framework import serializers

from core.api.fields import TargetField
from core.jobs import job_cancellable
from core.models import Event, Job


class JobSerializer(serializers.HyperlinkedModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:job-detail")
    target = TargetField()
    user = serializers.SlugRelatedField(slug_field="username", read_only=True)
    cancellable = serializers.SerializerMethodField(help_text="POST jobs/<id>/cancel/ may stop it now.")

    class Meta:
        model = Job
        fields = [
            "id", "url", "kind", "title", "status", "progress", "steps", "target", "error", "result",
            "cancellable", "cancel_requested", "user", "created_at", "started_at", "ended_at",
        ]
        read_only_fields = fields


    def get_cancellable(self, job: Job) -> bool:
        return job_cancellable(job)


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
