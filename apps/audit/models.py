"""The change log: an append-only record of every write through UI, API, worker or agent."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models

from apps.core.context import ChangeContext


class ChangeRecordQuerySet(models.QuerySet):
    def restrict(self, user, action: str = "view"):
        from apps.accounts.scoping import restrict_queryset

        return restrict_queryset(self, user, action, cluster_field="cluster", namespace_field="namespace")

    def update(self, **kwargs):  # pragma: no cover - guarded interface
        raise ImmutableChangeRecord("change records cannot be edited")

    def delete(self):
        raise ImmutableChangeRecord("change records cannot be deleted")


class ImmutableChangeRecord(Exception):
    """Raised on any attempt to edit or delete a change record."""


class ChangeRecord(models.Model):
    class Action(models.TextChoices):
        CREATE = "create"
        UPDATE = "update"
        DELETE = "delete"

    time = models.DateTimeField(auto_now_add=True, db_index=True)
    request_id = models.UUIDField(db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150)
    context = models.CharField(max_length=10, choices=ChangeContext.CHOICES)
    action = models.CharField(max_length=10, choices=Action.choices)
    object_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.CharField(max_length=64, db_index=True)
    object_repr = models.CharField(max_length=300)
    cluster = models.CharField(max_length=63, blank=True, db_index=True)
    namespace = models.CharField(max_length=63, blank=True, db_index=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    message = models.CharField(max_length=500, blank=True)
    ticket_ref = models.CharField(max_length=100, blank=True, db_index=True)

    objects = ChangeRecordQuerySet.as_manager()

    class Meta:
        ordering = ("-time", "-id")
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.action} {self.object_repr} by {self.actor_name}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ImmutableChangeRecord("change records cannot be edited")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableChangeRecord("change records cannot be deleted")

    def changed_fields(self) -> list[str]:
        before, after = self.before or {}, self.after or {}
        return sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
