"""Serializer fields shared by every app's API: the {type, id, name} target of jobs and events."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


@extend_schema_field(
    {"type": "object", "nullable": True,
     "properties": {"type": {"type": "string"}, "id": {"type": "string"}, "name": {"type": "string"}}}
)
class TargetField(serializers.Field):
    """{type, id, name} of the object a job or event is about, read from the
    copied fields so that it still reads after the object is deleted."""

    def __init__(self, **kwargs):
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, instance):
        if not instance.target_type_id:
            return None
        return {
            "type": instance.target_type.model,
            "id": instance.target_id,
            "name": instance.target_name,
        }
