"""Model features shared by every app: timestamps and change logging."""

from __future__ import annotations

import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


class ChangeLoggedModel(models.Model):
    """A model whose every create, update and delete is written to the audit log.

    The audit app's signal handlers call :meth:`audit_data` before and after each
    write; a model overrides it to present itself the way an auditor reads it
    (for example a cluster by name rather than by primary key).
    """

    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    audit_exclude_fields: tuple[str, ...] = ("created", "updated")

    class Meta:
        abstract = True

    def audit_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for field in self._meta.concrete_fields:
            if field.name in self.audit_exclude_fields:
                continue
            data[field.attname if field.is_relation else field.name] = field.value_from_object(self)
        return json.loads(json.dumps(data, cls=DjangoJSONEncoder))

    def audit_scope(self) -> tuple[str, str]:
        """(cluster name, namespace) that scope who may read this object's changes."""
        cluster = getattr(self, "cluster", None)
        return (getattr(cluster, "name", "") or "", getattr(self, "namespace", "") or "")


class IdempotencyKey(models.Model):
    """A client's ``Idempotency-Key`` and the response it got, replayed on a retry.

    Keys are per user and expire (settings.SGPADMIN_IDEMPOTENCY_TTL_SECONDS, default a day).
    ``fingerprint`` covers the method, the path and the canonical body, so the same key
    with a different request is refused instead of silently replaying the wrong answer.
    """

    user = models.ForeignKey(
        "accounts.User", on_delete=models.CASCADE, related_name="idempotency_keys"
    )
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response_body = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    response_headers = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    expires = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ("-created",)
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.user_id})"


# Background jobs (apps.core.jobs): defined there, registered with the core app here.
from .jobs.models import Job, JobLogEntry  # noqa: E402, F401
