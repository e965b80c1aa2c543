"""Policy filters; the same FilterSet serves the API query string and the UI filter form."""

from __future__ import annotations

import django_filters as filters
from django.db.models import Q

from apps.core.filtersets import IntegerFilter

from .models import Origin, Policy


class PolicyFilterSet(filters.FilterSet):
    cluster = filters.CharFilter(field_name="cluster__name", label="Cluster name")
    cluster_id = IntegerFilter(field_name="cluster_id", label="Cluster id")
    namespace = filters.CharFilter()
    name = filters.CharFilter()
    group_id = filters.CharFilter(method="filter_group_id", label="Lists this security group id")
    origin = filters.ChoiceFilter(choices=Origin.choices)
    q = filters.CharFilter(method="search", label="Name, namespace or description contains")

    class Meta:
        model = Policy
        fields = ["namespace", "name", "origin"]

    def filter_group_id(self, queryset, name, value):
        matching = queryset.select_related(None).referencing_group(value)
        return queryset.filter(pk__in=matching.values("pk"))

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(name__icontains=value) | Q(namespace__icontains=value) | Q(description__icontains=value)
        )
