"""Serializer fields that refuse wrong JSON types instead of coercing them.

DRF turns ``123`` into ``"123"`` for a CharField and ``"yes"`` into ``True`` for a
BooleanField; an API that governs security policy should say "wrong type" instead.
"""

from __future__ import annotations

from rest_framework import serializers
from rest_framework.relations import SlugRelatedField


class StrictStringMixin:
    default_error_messages = {"not_a_string": "Expected a string, got {type}."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_a_string", type=type(data).__name__)
        return super().to_internal_value(data)


class StrictCharField(StrictStringMixin, serializers.CharField):
    pass


class StrictSlugField(StrictStringMixin, serializers.SlugField):
    pass


class StrictURLField(StrictStringMixin, serializers.URLField):
    pass


class StrictChoiceField(StrictStringMixin, serializers.ChoiceField):
    pass


class StrictDateTimeField(StrictStringMixin, serializers.DateTimeField):
    pass


class StrictIPAddressField(StrictStringMixin, serializers.IPAddressField):
    pass


class StrictBooleanField(serializers.BooleanField):
    default_error_messages = {"invalid": "Expected true or false."}

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictIntegerField(serializers.IntegerField):
    default_error_messages = {
        **serializers.IntegerField.default_error_messages,
        "invalid": "Expected an integer.",
    }

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class ScopedSlugRelatedField(SlugRelatedField):
    """A related object named by a slug, chosen among those the requesting user may see."""

    default_error_messages = {
        **SlugRelatedField.default_error_messages,
        "does_not_exist": "Nothing named {value!r} that you can see.",
        "invalid": "Expected a string.",
    }

    def get_queryset(self):
        queryset = super().get_queryset()
        request = self.context.get("request")
        if request is None:
            return queryset.none()
        return queryset.restrict(request.user, "view")

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)
