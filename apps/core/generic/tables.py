"""The base of every django-tables2 table."""

from __future__ import annotations

import django_tables2 as tables


class BaseTable(tables.Table):
    class Meta:
        template_name = "generic/table.html"
        attrs = {"class": "table"}
