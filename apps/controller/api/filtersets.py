"""Filters for GC runs (API query parameters; the same FilterSet serves a UI form)."""

from __future__ import annotations

import django_filters as filters

from apps.core.filtersets import InstantFilter, IntegerFilter

from ..models import GCRun, GCRunKind


class GCRunFilterSet(filters.FilterSet):
    cluster = filters.CharFilter(field_name="cluster__name", label="Cluster name")
    cluster_id = IntegerFilter(field_name="cluster_id", label="Cluster id")
    kind = filters.ChoiceFilter(choices=GCRunKind.choices)
    node_name = filters.CharFilter()
    started_after = InstantFilter(field_name="started", lookup_expr="gte")
    started_before = InstantFilter(field_name="started", lookup_expr="lt")
    failed = filters.BooleanFilter(method="filter_failed", label="Has an error")
    deleted_some = filters.BooleanFilter(method="filter_deleted_some",
                                         label="Deleted at least one ENI")

    class Meta:
        model = GCRun
        fields = ["kind", "node_name"]

    def filter_failed(self, queryset, name, value):
        return queryset.exclude(error="") if value else queryset.filter(error="")

    def filter_deleted_some(self, queryset, name, value):
        return queryset.filter(deleted__gt=0) if value else queryset.filter(deleted=0)
