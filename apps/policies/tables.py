"""Policy list table."""

from __future__ import annotations

import django_tables2 as tables
from django.utils.html import format_html, format_html_join

from apps.core.generic.tables import BaseTable

from .models import Policy


def group_badges(group_ids) -> str:
    return format_html_join(" ", '<span class="sg">{}</span>', ((g,) for g in group_ids))


class PolicyTable(BaseTable):
    select = tables.CheckBoxColumn(accessor="pk", attrs={"input": {"name": "pk"}})
    name = tables.Column(linkify=("policies:policy_detail", {"pk": tables.A("pk")}))
    cluster = tables.Column(accessor="cluster__name", verbose_name="Cluster")
    namespace = tables.Column()
    groups = tables.Column(accessor="spec", verbose_name="Security groups", orderable=False)
    selectors = tables.Column(
        accessor="spec", verbose_name="Selects by", orderable=False, empty_values=()
    )
    origin = tables.Column()
    version = tables.Column()
    updated = tables.DateTimeColumn(format="Y-m-d H:i")

    class Meta(BaseTable.Meta):
        model = Policy
        fields = (
            "select",
            "name",
            "cluster",
            "namespace",
            "groups",
            "selectors",
            "origin",
            "version",
            "updated",
        )
        order_by = ("cluster", "namespace", "name")

    def render_groups(self, record):
        return group_badges(record.group_ids)

    def render_selectors(self, record):
        spec = record.spec if isinstance(record.spec, dict) else {}
        parts = [
            label
            for key, label in (
                ("podSelector", "pod"),
                ("serviceAccountSelector", "service account"),
            )
            if spec.get(key) is not None
        ]
        return format_html("{}", " + ".join(parts) or "nothing (ignored)")
