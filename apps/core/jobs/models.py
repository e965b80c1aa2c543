"""Job and JobLogEntry: what a background job is doing, how far it got, what it said."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class JobQuerySet(models.QuerySet):
    def restrict(self, user, action: str = "view"):
        """Jobs on clusters the user may see; a job on no cluster only to its starter and admins."""
        from apps.accounts.scoping import restrict_queryset, user_can

        if user is None or not user.is_authenticated:
            return self.none()
        scoped = restrict_queryset(
            self.exclude(cluster=""), user, action, cluster_field="cluster", namespace_field=None
        )
        unscoped = self.filter(cluster="")
        if not user_can(user, "admin"):
            unscoped = unscoped.filter(user=user)
        return self.filter(
            models.Q(pk__in=scoped.values("pk")) | models.Q(pk__in=unscoped.values("pk"))
        )


class Job(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=200, help_text="Dotted path of the job function.")
    title = models.CharField(max_length=200)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    request_id = models.UUIDField(null=True, blank=True, db_index=True)
    cluster = models.CharField(max_length=63, blank=True, db_index=True)
    params = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(null=True, blank=True)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True, db_index=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)

    objects = JobQuerySet.as_manager()

    class Meta:
        app_label = "core"
        ordering = ("-created",)

    def __str__(self) -> str:
        return f"{self.title} ({self.status})"

    @property
    def done(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)

    @property
    def percent(self) -> int | None:
        if not self.progress_total:
            return 100 if self.status == self.Status.SUCCEEDED else None
        return min(100, round(100 * self.progress_done / self.progress_total))


class JobLogEntry(models.Model):
    class Level(models.TextChoices):
        INFO = "info"
        WARNING = "warning"
        ERROR = "error"

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="log_entries")
    time = models.DateTimeField(auto_now_add=True)
    level = models.CharField(max_length=10, choices=Level.choices, default=Level.INFO)
    message = models.TextField()

    class Meta:
        app_label = "core"
        ordering = ("time", "id")

    def __str__(self) -> str:
        return f"{self.level}: {self.message[:60]}"
