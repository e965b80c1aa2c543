"""The API shape of a policy and of the preview, import and export requests.

A policy is ``{"id", "cluster": "<name>", "namespace", "name", "spec": {...CRD spec...},
"description", "origin", "version", "created", "updated"}``. Writes are validated by
:mod:`apps.policies.validation`; errors are keyed by field path
(``spec.securityGroups.groupIds[1]``); warnings travel in the ``Warning`` header.
"""

from __future__ import annotations

from rest_framework import serializers

from apps.core.api.fields import ScopedSlugRelatedField, StrictCharField
from apps.core.api.serializers import ChangeNoteSerializer
from apps.inventory.models import Cluster

from ..models import Policy
from ..validation import validate_policy, validate_spec


class PolicySerializer(ChangeNoteSerializer):
    cluster = ScopedSlugRelatedField(
        slug_field="name", queryset=Cluster.objects.all(), help_text="The cluster's name."
    )
    spec = serializers.JSONField(
        help_text="The SecurityGroupPolicy spec exactly as the CRD has it: podSelector, "
        "serviceAccountSelector, securityGroups.groupIds."
    )

    class Meta:
        model = Policy
        fields = [
            "id", "cluster", "namespace", "name", "spec", "description", "origin", "version",
            "created", "updated", "changelog_message", "ticket_ref",
        ]
        read_only_fields = ["origin", "version", "created", "updated"]

    warnings: dict[str, list[str]]
    IDENTITY_FIELDS = ("cluster", "namespace", "name")

    def validate(self, attrs):
        instance = self.instance
        if instance is not None:
            moved = {
                field: [
                    f"A policy's {field} cannot change (as in Kubernetes): create the policy "
                    "under its new identity and delete this one."
                ]
                for field in self.IDENTITY_FIELDS
                if field in attrs and attrs[field] != getattr(instance, field)
            }
            if moved:
                raise serializers.ValidationError(moved)

        def current(field):
            if field in attrs:
                return attrs[field]
            return getattr(instance, field, None) if instance is not None else None

        report = validate_policy(current("namespace"), current("name"), current("spec"))
        if not report.ok:
            raise serializers.ValidationError(report.errors)
        self.warnings = report.warnings
        return attrs


class PreviewRequestSerializer(serializers.Serializer):
    cluster = ScopedSlugRelatedField(slug_field="name", queryset=Cluster.objects.all())
    namespace = StrictCharField(max_length=63)
    spec = serializers.JSONField()

    def to_internal_value(self, data):
        _refuse_unknown(self, data)
        return super().to_internal_value(data)

    def validate(self, attrs):
        report = validate_spec(attrs["spec"])
        if not report.ok:
            raise serializers.ValidationError(report.errors)
        return attrs


class PreviewPodSerializer(serializers.Serializer):
    """One pod that the policy would select now, and where it runs."""

    namespace = serializers.CharField()
    name = serializers.CharField()
    uid = serializers.CharField()
    node = serializers.CharField(help_text="The node the pod runs on ('' if unscheduled).")
    phase = serializers.CharField()
    service_account = serializers.CharField()
    reason = serializers.CharField(help_text="Why the policy selects the pod.")


class PreviewResponseSerializer(serializers.Serializer):
    cluster = serializers.CharField()
    namespace = serializers.CharField()
    count = serializers.IntegerField()
    pods = PreviewPodSerializer(many=True)


class ImportRequestSerializer(serializers.Serializer):
    cluster = ScopedSlugRelatedField(slug_field="name", queryset=Cluster.objects.all())
    manifests = StrictCharField(
        allow_blank=False, trim_whitespace=False,
        help_text="SecurityGroupPolicy manifests as multi-document YAML.",
    )
    changelog_message = StrictCharField(required=False, allow_blank=True, max_length=500)
    ticket_ref = StrictCharField(required=False, allow_blank=True, max_length=100)

    def to_internal_value(self, data):
        _refuse_unknown(self, data)
        return super().to_internal_value(data)


class ImportResultSerializer(serializers.Serializer):
    created = serializers.ListField(child=serializers.CharField(), help_text="namespace/name")
    updated = serializers.ListField(child=serializers.CharField(), help_text="namespace/name")
    unchanged = serializers.ListField(child=serializers.CharField(), help_text="namespace/name")


def _refuse_unknown(serializer, data) -> None:
    if isinstance(data, dict):
        unknown = sorted(set(data) - set(serializer.fields))
        if unknown:
            raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
