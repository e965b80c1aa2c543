"""Job table."""

from __future__ import annotations

import django_tables2 as tables
from django.utils.html import format_html

from .generic.tables import BaseTable
from .jobs.models import Job

STATUS_BADGES = {"succeeded": "badge-ok", "failed": "badge-danger", "running": "badge-info"}


class JobTable(BaseTable):
    title = tables.Column(linkify=("core:job_detail", {"pk": tables.A("pk")}))
    status = tables.Column()
    progress = tables.Column(accessor="progress_done", verbose_name="Progress", orderable=False)
    user = tables.Column(accessor="user__username", verbose_name="Started by", default="system")
    created = tables.DateTimeColumn(format="Y-m-d H:i:s", verbose_name="Started")
    finished = tables.DateTimeColumn(format="Y-m-d H:i:s", default="—")

    class Meta(BaseTable.Meta):
        model = Job
        fields = ("title", "status", "progress", "user", "created", "finished")
        order_by = ("-created",)

    def render_status(self, value, record):
        return format_html(
            '<span class="badge {}">{}</span>', STATUS_BADGES.get(record.status, ""), value
        )

    def render_progress(self, record):
        if record.progress_total:
            return f"{record.progress_done} / {record.progress_total}"
        return "—"
