"""Base serializers: strict types, unknown fields refused, change notes accepted."""

from __future__ import annotations

from collections.abc import Mapping

from django.db import models
from rest_framework import serializers

from . import fields

CHANGE_NOTE_FIELDS = ("changelog_message", "ticket_ref")


class StrictModelSerializer(serializers.ModelSerializer):
    """A ModelSerializer that refuses unknown fields and values of the wrong JSON type.

    Read-only fields sent back by a client (``id``, ``created``...) are ignored, as DRF
    does; a field the object does not have is an error.
    """

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: fields.StrictCharField,
        models.TextField: fields.StrictCharField,
        models.SlugField: fields.StrictSlugField,
        models.URLField: fields.StrictURLField,
        models.BooleanField: fields.StrictBooleanField,
        models.IntegerField: fields.StrictIntegerField,
        models.PositiveIntegerField: fields.StrictIntegerField,
        models.PositiveSmallIntegerField: fields.StrictIntegerField,
        models.DateTimeField: fields.StrictDateTimeField,
        models.GenericIPAddressField: fields.StrictIPAddressField,
    }
    serializer_choice_field = fields.StrictChoiceField

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {name: ["Unknown field."] for name in unknown}
                )
        return super().to_internal_value(data)


class ChangeNoteSerializer(StrictModelSerializer):
    """Writes carry an optional reason and ticket reference into the change log."""

    changelog_message = fields.StrictCharField(
        write_only=True, required=False, allow_blank=True, max_length=500,
        help_text="Why this change is made; recorded in the change log.",
    )
    ticket_ref = fields.StrictCharField(
        write_only=True, required=False, allow_blank=True, max_length=100,
        help_text="The ticket this change belongs to; recorded in the change log.",
    )


class ChangeNoteQuerySerializer(serializers.Serializer):
    """The change note of a DELETE, from the query string or a JSON body."""

    changelog_message = fields.StrictCharField(required=False, allow_blank=True, max_length=500)
    ticket_ref = fields.StrictCharField(required=False, allow_blank=True, max_length=100)

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)
