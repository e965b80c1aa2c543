"""Celery tasks of the controller: thin wrappers that load the cluster, run a reconcile and
turn its outcome into a requeue or a retry.

- ``acks_late`` (settings): a worker killed mid-task leaves the message to be redelivered;
  every step is idempotent (see :mod:`apps.controller.branch_lifecycle`), so it resumes.
- Throttling, 5xx and connection errors, of EC2 or of the API server: retried with capped
  exponential backoff and full jitter, no pod event, up to ``EC2_RETRIES`` times.
- Other errors: retried up to ``ERROR_RETRIES`` times (upstream's workqueue limit).
- A "requeue" outcome (node not ready, trunk full, pod busy) schedules a fresh task after the
  given delay; it is not a retry and does not count against the limit.
"""

from __future__ import annotations

import logging
import random
import time

from celery import shared_task
from celery.signals import worker_init

from apps.controller.node_reconcile import reconcile_node
from apps.controller.pod_attach import attach_pod
from apps.controller.ports import cluster as cluster_port
from apps.controller.ports import ec2 as ec2_port
from apps.core.metrics import RECONCILE_SECONDS, RECONCILE_TOTAL
from apps.inventory.models import Cluster

log = logging.getLogger(__name__)
EC2_RETRIES = 10
ERROR_RETRIES = 5
BACKOFF_BASE_SECONDS = 1.0
BACKOFF_CAP_SECONDS = 60.0


@worker_init.connect
def _preload_clients(**_) -> None:
    """In the worker's parent, before the pool forks: children inherit loaded models."""
    from apps.controller.ports.ec2 import preload_service_model

    preload_service_model()


def backoff(retries: int) -> float:
    """Capped exponential backoff with full jitter."""
    return random.uniform(0, min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** retries))


def same_queue(task) -> dict:
    """Send follow-ups to the queue this task came from (deployments may route by queue)."""
    queue = (task.request.delivery_info or {}).get("routing_key")
    return {"queue": queue} if queue else {}


def is_retryable(exc: BaseException) -> bool:
    """EC2 or API server trouble (throttling, 5xx, connections): no fault of the request."""
    return ec2_port.is_retryable(exc) or cluster_port.is_retryable(exc)


def _retry(task, exc: Exception):
    limit = EC2_RETRIES if is_retryable(exc) else ERROR_RETRIES
    if task.request.retries >= limit:
        raise exc
    raise task.retry(exc=exc, countdown=backoff(task.request.retries), max_retries=limit)


@shared_task(bind=True, name="controller.reconcile_node", acks_late=True, ignore_result=True)
def reconcile_node_task(self, cluster_id: int, node_name: str) -> str:
    started = time.perf_counter()
    cluster = Cluster.objects.get(pk=cluster_id)
    try:
        outcome = reconcile_node(cluster, node_name)
    except Exception as exc:
        RECONCILE_TOTAL.labels("node", "error").inc()
        _retry(self, exc)
    RECONCILE_SECONDS.labels("node").observe(time.perf_counter() - started)
    RECONCILE_TOTAL.labels("node", "managed" if outcome.managed else "unmanaged").inc()
    if outcome.busy:
        reconcile_node_task.apply_async((cluster_id, node_name), countdown=1.0,
                                        **same_queue(self))
    elif outcome.managed:
        enqueue_pods_of_node(cluster, node_name, **same_queue(self))
    return outcome.note


@shared_task(bind=True, name="controller.attach_pod", acks_late=True, ignore_result=True)
def attach_pod_task(self, cluster_id: int, namespace: str, name: str, uid: str = "") -> str:
    started = time.perf_counter()
    cluster = Cluster.objects.get(pk=cluster_id)
    try:
        outcome = attach_pod(cluster, namespace, name, uid)
    except Exception as exc:
        RECONCILE_TOTAL.labels("pod", "error").inc()
        _retry(self, exc)
    RECONCILE_SECONDS.labels("pod").observe(time.perf_counter() - started)
    RECONCILE_TOTAL.labels("pod", outcome.result).inc()
    if outcome.requeue_after is not None:
        attach_pod_task.apply_async((cluster_id, namespace, name, uid),
                                    countdown=outcome.requeue_after, **same_queue(self))
    if outcome.release_uid:
        request_release(cluster_id, outcome.release_uid, **same_queue(self))
    return f"{outcome.result}: {outcome.detail}"


def request_release(cluster_id: int, pod_uid: str, **options) -> None:
    """Hand a gone or finished pod to the release worker (``controller.release_pod``)."""
    from sgpadmin.celery import app

    app.send_task("controller.release_pod", (cluster_id, pod_uid), **options)


def enqueue_pods_of_node(cluster: Cluster, node_name: str, **options) -> int:
    """Ask for an attach of every pod on the node that requests a branch and has none."""
    from apps.inventory.models import Pod

    pods = Pod.objects.filter(cluster=cluster, node_name=node_name, requests_pod_eni=True,
                              pod_eni_annotation__isnull=True, deleted_at__isnull=True)
    count = 0
    for namespace, name, uid in pods.values_list("namespace", "name", "uid"):
        attach_pod_task.apply_async((cluster.pk, namespace, name, uid), **options)
        count += 1
    return count
