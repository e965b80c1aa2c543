"""What the controller records about its own background work.

``GCRun``: one row per run of a lifecycle mechanism (reference §4.6-§4.8): the per-node leak
check, the cluster sweep of ``available`` ENIs, the node-termination cleanup, the release of
a deleted node's branches, a restart resync, and the announcement of a changed cooldown. Rows
are the visible record (API ``/api/gc-runs/``, Django admin) and also the memory the
mechanisms need between runs: the sweep's two-strike candidates are the previous sweep's
``details["available"]``, a node's next leak check is in the last check's ``details``.
"""

from __future__ import annotations

from django.db import models

from apps.core.querysets import ScopedQuerySet


class GCRunKind(models.TextChoices):
    LEAK_CHECK = "leak_check", "Per-node leak check"
    SWEEP = "sweep", "Cluster sweep of available ENIs"
    NODE_TERMINATION = "node_termination", "Node-termination cleanup"
    NODE_RELEASE = "node_release", "Release of a deleted node's branches"
    RESYNC = "resync", "Resync from EC2 and pod annotations"
    COOLDOWN_UPDATE = "cooldown_update", "Branch ENI cooldown period updated"


class GCRun(models.Model):
    """One run: when, where, how many ENIs it found and deleted, and what exactly."""

    kind = models.CharField(max_length=20, choices=GCRunKind.choices, db_index=True)
    cluster = models.ForeignKey(
        "inventory.Cluster", on_delete=models.CASCADE, related_name="gc_runs"
    )
    node_name = models.CharField(max_length=253, blank=True, db_index=True)
    started = models.DateTimeField(db_index=True)
    finished = models.DateTimeField(null=True, blank=True)
    found = models.PositiveIntegerField(default=0)
    deleted = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)
    details = models.JSONField(default=dict, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_cluster_field = "cluster__name"
    scope_namespace_field = None

    class Meta:
        ordering = ("-started", "-id")
        indexes = [models.Index(fields=["cluster", "kind", "node_name", "-started"])]
        verbose_name = "GC run"

    def __str__(self) -> str:
        where = f"{self.cluster_id}/{self.node_name}" if self.node_name else str(self.cluster_id)
        return f"{self.kind} on {where} at {self.started:%Y-%m-%d %H:%M:%S}"

    def audit_scope(self) -> tuple[str, str]:
        return (self.cluster.name, "")
