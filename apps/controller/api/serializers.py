"""GC runs as the API shows them (read-only)."""

from __future__ import annotations

from rest_framework import serializers

from apps.core.api.serializers import StrictModelSerializer

from ..models import GCRun


class GCRunSerializer(StrictModelSerializer):
    cluster = serializers.SlugRelatedField(slug_field="name", read_only=True)

    class Meta:
        model = GCRun
        fields = ["id", "kind", "cluster", "node_name", "started", "finished", "found",
                  "deleted", "error", "details"]
