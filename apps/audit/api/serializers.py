from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..models import ChangeRecord


@extend_schema_field(
    {"type": "string", "example": "policies.policy", "description": "app_label.model"}
)
class ObjectTypeField(serializers.Field):
    def to_representation(self, value):
        return f"{value.app_label}.{value.model}"


class ChangeRecordSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_name")
    object_type = ObjectTypeField(read_only=True)
    before = serializers.JSONField(allow_null=True)
    after = serializers.JSONField(allow_null=True)
    changed_fields = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = ChangeRecord
        fields = [
            "id", "time", "request_id", "user", "actor", "context", "action", "object_type",
            "object_id", "object_repr", "cluster", "namespace", "before", "after",
            "changed_fields", "message", "ticket_ref",
        ]
        read_only_fields = fields
