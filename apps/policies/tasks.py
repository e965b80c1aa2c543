"""Celery tasks of the policies app: keep the cluster's SecurityGroupPolicies in step."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from apps.inventory.models import Cluster

from .sync.apply import sync_cluster


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def sync_policies(cluster_id: int, mode: str | None = None) -> dict:
    """One sync pass for one cluster; returns what it did (counts, drift, errors)."""
    from apps.controller.ports.cluster import ClusterPort

    cluster = Cluster.objects.get(pk=cluster_id)
    report = sync_cluster(cluster, ClusterPort(cluster).custom, mode or settings.SGPADMIN_POLICY_DRIFT_MODE)
    return report.as_dict()


@shared_task
def sync_policies_everywhere() -> int:
    """Queue a sync for every cluster (periodic safety net behind the save-time sync)."""
    ids = list(Cluster.objects.values_list("pk", flat=True))
    for cluster_id in ids:
        sync_policies.delay(cluster_id)
    return len(ids)
