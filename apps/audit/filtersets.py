"""Change-log filters: by request, actor, context, action, object, scope, ticket and time."""

from __future__ import annotations

import django_filters as filters
from django.contrib.contenttypes.models import ContentType

from apps.core.context import ChangeContext
from apps.core.filtersets import InstantFilter, IntegerFilter

from .models import ChangeRecord


class ChangeRecordFilterSet(filters.FilterSet):
    request_id = filters.UUIDFilter()
    actor = filters.CharFilter(field_name="actor_name", label="Actor (user name or system)")
    user_id = IntegerFilter(field_name="user_id")
    context = filters.ChoiceFilter(choices=ChangeContext.CHOICES)
    action = filters.ChoiceFilter(choices=ChangeRecord.Action.choices)
    object_type = filters.CharFilter(
        method="filter_object_type", label="Object type as app_label.model, e.g. policies.policy"
    )
    object_id = filters.CharFilter()
    cluster = filters.CharFilter()
    namespace = filters.CharFilter()
    ticket_ref = filters.CharFilter()
    since = InstantFilter(field_name="time", lookup_expr="gte", label="At or after")
    until = InstantFilter(field_name="time", lookup_expr="lt", label="Before")

    class Meta:
        model = ChangeRecord
        fields = ["request_id", "context", "action", "object_id", "cluster", "namespace", "ticket_ref"]

    def filter_object_type(self, queryset, name, value):
        app_label, _, model = value.partition(".")
        content_type = ContentType.objects.filter(app_label=app_label, model=model.lower()).first()
        if content_type is None:
            return queryset.none()
        return queryset.filter(object_type=content_type)
