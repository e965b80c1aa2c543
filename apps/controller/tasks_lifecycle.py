"""Celery tasks of the branch lifecycle: release after cooldown, node deletion, leak
collection, restart resync; and the beat entries that drive them.

The periodic ("tick") tasks only look for due work and fan it out, one task per node or
cluster, so that a slow EC2 call never holds up another node; the per-node work takes a
try lock, so a duplicate finds the node busy and does nothing. Every task is idempotent
and safe after a crash (``acks_late``).

Wiring: the worker must import this module, e.g.
``app.autodiscover_tasks(related_name="tasks_lifecycle")`` in ``sgpadmin/celery.py`` or
``celery worker -I apps.controller.tasks_lifecycle``; importing it connects the
``worker_ready`` resync. The beat entries are ``worker.schedule.lifecycle_schedule``.
"""

from __future__ import annotations

import logging
import os
import time

from celery import shared_task
from celery.signals import worker_ready

from apps.core.metrics import RECONCILE_SECONDS, RECONCILE_TOTAL
from apps.inventory.models import Cluster, Node

log = logging.getLogger(__name__)
RESYNC_ON_START_ENV = "SGPADMIN_RESYNC_ON_START"


class _timed:
    def __init__(self, kind: str) -> None:
        self.kind = kind

    def __enter__(self):
        self.started = time.perf_counter()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        RECONCILE_SECONDS.labels(self.kind).observe(time.perf_counter() - self.started)
        RECONCILE_TOTAL.labels(self.kind, "error" if exc_type else "ok").inc()


def _cluster(cluster_id: int) -> Cluster | None:
    return Cluster.objects.filter(pk=cluster_id).first()


# -- ticks (beat) --------------------------------------------------------------------------------
@shared_task(name="controller.tick_release", acks_late=True)
def tick_release() -> dict:
    """Announce cooldown changes; fan out due delete queues, node releases, node cleanups."""
    from apps.controller import gc, release

    sent = {"queues": 0, "node_releases": 0, "node_cleanups": 0}
    for cluster in Cluster.objects.all():
        try:
            release.announce_cooldown_change(cluster)
        except Exception:
            log.warning("cooldown announcement for %s failed", cluster.name, exc_info=True)
        for node_name in release.nodes_with_queued_branches(cluster):
            release_node_queue.delay(cluster.pk, node_name)
            sent["queues"] += 1
        for node in release.deleted_nodes_due(cluster):
            release_deleted_node.delay(cluster.pk, node.name)
            sent["node_releases"] += 1
        for node in gc.terminated_nodes_due(cluster):
            cleanup_terminated_node.delay(cluster.pk, node.name)
            sent["node_cleanups"] += 1
    return sent


@shared_task(name="controller.tick_leak_checks", acks_late=True)
def tick_leak_checks() -> int:
    from apps.controller import gc

    sent = 0
    for cluster in Cluster.objects.all():
        for node_name in gc.leak_checks_due(cluster):
            check_node_leaks.delay(cluster.pk, node_name)
            sent += 1
    return sent


@shared_task(name="controller.tick_sweeps", acks_late=True)
def tick_sweeps() -> int:
    from apps.controller import gc

    sent = 0
    for cluster in Cluster.objects.all():
        if gc.sweep_due(cluster):
            sweep_cluster.delay(cluster.pk)
            sent += 1
    gc.prune_runs()
    return sent


# -- per node / per cluster work -----------------------------------------------------------------
RELEASE_BUSY_REQUEUES = 60


@shared_task(name="controller.release_pod", acks_late=True)
def release_pod(cluster_id: int, pod_uid: str, busy_requeues: int = 0) -> str:
    """A pod is gone or finished; while an attach holds the pod, try again each second (up to
    a minute: after that the node's leak check releases it)."""
    from apps.controller import release

    cluster = _cluster(cluster_id)
    if cluster is None:
        return "no such cluster"
    with _timed("release_pod"):
        count = release.release_pod(cluster, pod_uid)
    if count is None:
        if busy_requeues >= RELEASE_BUSY_REQUEUES:
            return "busy: left to the leak check"
        release_pod.apply_async((cluster_id, pod_uid, busy_requeues + 1), countdown=1.0)
        return "busy: requeued"
    return f"{count} branches cooling"


@shared_task(name="controller.release_node_queue", acks_late=True)
def release_node_queue(cluster_id: int, node_name: str) -> str:
    from apps.controller import release

    cluster = _cluster(cluster_id)
    if cluster is None:
        return "no such cluster"
    with _timed("release"):
        outcome = release.process_node_queue(cluster, node_name)
    return (f"busy={outcome.busy} deleted={len(outcome.deleted)} failed={len(outcome.failed)} "
            f"leaked={len(outcome.leaked)}")


def _deleted_node(cluster_id: int, node_name: str) -> tuple[Cluster | None, Node | None]:
    """The cluster and the node row, when that node is marked deleted."""
    node = Node.objects.filter(cluster_id=cluster_id, name=node_name,
                               deleted_at__isnull=False).first()
    return _cluster(cluster_id), node


@shared_task(name="controller.release_deleted_node", acks_late=True)
def release_deleted_node(cluster_id: int, node_name: str) -> str:
    from apps.controller import release

    cluster, node = _deleted_node(cluster_id, node_name)
    if cluster is None or node is None:
        return "node not deleted"
    with _timed("node_release"):
        run = release.release_deleted_node(cluster, node)
    return f"found={run.found} deleted={run.deleted}"


@shared_task(name="controller.cleanup_terminated_node", acks_late=True)
def cleanup_terminated_node(cluster_id: int, node_name: str) -> str:
    from apps.controller import gc

    cluster, node = _deleted_node(cluster_id, node_name)
    if cluster is None or node is None:
        return "node not deleted"
    with _timed("node_termination"):
        run = gc.cleanup_terminated_node(cluster, node)
    return f"found={run.found} deleted={run.deleted} {run.error}"


@shared_task(name="controller.check_node_leaks", acks_late=True)
def check_node_leaks(cluster_id: int, node_name: str) -> str:
    from apps.controller import gc

    cluster = _cluster(cluster_id)
    if cluster is None:
        return "no such cluster"
    with _timed("leak_check"):
        run = gc.check_node_for_leaks(cluster, node_name)
    return f"leaked pods={run.found} {run.error}"


@shared_task(name="controller.sweep_cluster", acks_late=True)
def sweep_cluster(cluster_id: int) -> str:
    from apps.controller import gc

    cluster = _cluster(cluster_id)
    if cluster is None:
        return "no such cluster"
    with _timed("sweep"):
        run = gc.sweep_cluster(cluster)
    return f"candidates={run.found} deleted={run.deleted} {run.error}"


@shared_task(name="controller.resync_node", acks_late=True)
def resync_node(cluster_id: int, node_name: str) -> str:
    from apps.controller import resync

    cluster = _cluster(cluster_id)
    if cluster is None:
        return "no such cluster"
    with _timed("resync"):
        run = resync.resync_node(cluster, node_name)
    _enqueue_attaches(cluster_id, run.details.get("attach", []))
    return f"{run.details.get('summary') or run.details}"


@shared_task(name="controller.resync_all", acks_late=True)
def resync_all(cluster_id: int | None = None) -> int:
    """On demand and at worker start: one resync per node of every (or one) cluster."""
    from apps.controller.ports.cluster import ClusterPort
    from apps.controller.release import mark_node_deleted

    sent = 0
    clusters = Cluster.objects.all() if cluster_id is None else Cluster.objects.filter(
        pk=cluster_id)
    for cluster in clusters:
        try:
            nodes, _ = ClusterPort(cluster).list("Node")
        except Exception:
            log.warning("cannot list the nodes of %s for resync", cluster.name, exc_info=True)
            continue
        names = {n["metadata"]["name"] for n in nodes}
        for row in Node.objects.filter(cluster=cluster, deleted_at__isnull=True).exclude(
                name__in=names):
            mark_node_deleted(row)
        for name in sorted(names):
            resync_node.delay(cluster.pk, name)
            sent += 1
    return sent


def _enqueue_attaches(cluster_id: int, pods: list) -> None:
    from apps.controller.tasks import attach_pod_task

    for namespace, name, uid in pods:
        attach_pod_task.delay(cluster_id, namespace, name, uid)


@worker_ready.connect
def resync_on_worker_start(sender=None, **_kwargs) -> None:
    """Every worker start asks for a resync (idempotent; set the env to 0 to skip)."""
    if os.environ.get(RESYNC_ON_START_ENV, "1") in ("0", "false", "no"):
        return
    try:
        resync_all.delay()
    except Exception:
        log.warning("could not enqueue the start-up resync", exc_info=True)
