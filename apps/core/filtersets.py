"""Filters shared by every app's FilterSets: typed so a bad query value is a 400, never a
database error (an id too large for the column, an address a PostgreSQL inet refuses)."""

from __future__ import annotations

from datetime import UTC

import django_filters as filters
from django import forms

MAX_ID = 2**63 - 1


class BoundedIntegerField(forms.IntegerField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", -MAX_ID)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class IntegerFilter(filters.NumberFilter):
    """An exact integer (ids, VLAN ids) within the range a database column holds."""

    field_class = BoundedIntegerField


class IPAddressFilter(filters.CharFilter):
    """An IPv4 or IPv6 address."""

    field_class = forms.GenericIPAddressField


class UTCIsoDateTimeField(filters.fields.IsoDateTimeField):
    """An RFC 3339 instant, turned into UTC (PostgreSQL refuses offsets beyond ±15:59)."""

    def to_python(self, value):
        instant = super().to_python(value)
        if instant is None:
            return None
        try:
            return instant.astimezone(UTC)
        except OverflowError as exc:
            raise forms.ValidationError("The instant is out of range.", code="invalid") from exc


class InstantFilter(filters.IsoDateTimeFilter):
    """Filter by an RFC 3339 instant (e.g. ``2026-01-01T14:02:00Z``)."""

    field_class = UTCIsoDateTimeField
