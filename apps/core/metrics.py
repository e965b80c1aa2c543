"""Prometheus metrics at ``/metrics``.

Two kinds of figures:
- counters and histograms incremented in the process that does the work (EC2 calls,
  reconcile latency). With ``PROMETHEUS_MULTIPROC_DIR`` set, every process on the host
  writes them to that directory and ``/metrics`` aggregates them (the demo and single-host
  installs); otherwise each process exposes only its own.
- gauges computed from the database at scrape time (per-node branch capacity, in use,
  cooling) and the broker's queue depth, so they are right whatever process answers.
"""

from __future__ import annotations

import os

from django.http import HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

RECONCILE_SECONDS = Histogram(
    "sgpadmin_reconcile_seconds",
    "Time spent in one reconcile task, by kind (node, pod, release, ...).",
    ["kind"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
RECONCILE_TOTAL = Counter(
    "sgpadmin_reconcile_total", "Reconcile tasks finished, by kind and outcome.", ["kind", "outcome"]
)


class InventoryCollector(Collector):
    """Per-node branch ENI capacity, in use and cooling, read from the database."""

    def collect(self):
        from django.db.models import Count, Q

        from apps.inventory.models import BranchENI, BranchENIState, Node

        capacity = GaugeMetricFamily(
            "sgpadmin_node_branch_capacity", "Branch ENIs the node's instance type allows.",
            labels=["cluster", "node"],
        )
        in_use = GaugeMetricFamily(
            "sgpadmin_node_branch_in_use", "Branch ENIs serving pods on the node.",
            labels=["cluster", "node"],
        )
        cooling = GaugeMetricFamily(
            "sgpadmin_node_branch_cooling", "Released branch ENIs cooling down on the node.",
            labels=["cluster", "node"],
        )
        counts = {
            (row["cluster__name"], row["node_name"]): row
            for row in BranchENI.objects.values("cluster__name", "node_name").annotate(
                in_use=Count("id", filter=Q(state__in=[BranchENIState.CREATING, BranchENIState.ATTACHED])),
                cooling=Count("id", filter=Q(state__in=[BranchENIState.COOLING, BranchENIState.DELETING])),
            )
        }
        for node in Node.objects.filter(managed=True, deleted_at__isnull=True).values(
            "cluster__name", "name", "branch_capacity"
        ):
            key = (node["cluster__name"], node["name"])
            row = counts.get(key, {"in_use": 0, "cooling": 0})
            capacity.add_metric(list(key), node["branch_capacity"])
            in_use.add_metric(list(key), row["in_use"])
            cooling.add_metric(list(key), row["cooling"])
        yield capacity
        yield in_use
        yield cooling


class QueueCollector(Collector):
    """Tasks waiting in the Celery broker's default queue."""

    def collect(self):
        depth = GaugeMetricFamily("sgpadmin_queue_depth", "Tasks waiting in the broker.", labels=["queue"])
        value = queue_depth("celery")
        if value is not None:
            depth.add_metric(["celery"], value)
        yield depth


def queue_depth(queue: str) -> int | None:
    from django.conf import settings

    try:
        if settings.REDIS_URL:
            import redis

            return int(redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1).llen(queue))
        folder = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("data_folder_in")
        if folder and os.path.isdir(folder):
            return sum(1 for name in os.listdir(folder) if name.endswith(".msg"))
        return 0
    except Exception:
        return None


def build_registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        for collector in list(REGISTRY._collector_to_names):
            registry.register(collector)
    registry.register(InventoryCollector())
    registry.register(QueueCollector())
    return registry


def metrics_view(request):
    """The scrape endpoint; with SGPADMIN_METRICS_TOKEN set it wants that bearer token."""
    from django.conf import settings

    expected = getattr(settings, "SGPADMIN_METRICS_TOKEN", None)
    if expected and request.headers.get("Authorization", "") != f"Bearer {expected}":
        return HttpResponse("metrics need the scrape token\n", status=401, content_type="text/plain")
    return HttpResponse(generate_latest(build_registry()), content_type=CONTENT_TYPE_LATEST)
