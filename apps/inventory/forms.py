"""UI-only filters on top of the shared FilterSets (which also serve the API)."""

from __future__ import annotations

import django_filters as filters

from .filtersets import PodFilterSet


class PodListFilterSet(PodFilterSet):
    """The pod list's filters: the API's, plus "holds a branch ENI" on the list's annotation."""

    holds_branch = filters.BooleanFilter(
        field_name="branch_eni_id", lookup_expr="isnull", exclude=True, label="Holds a branch ENI"
    )
