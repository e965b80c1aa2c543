"""Leak collection (reference §4.6): the shells of the three mechanisms, each run recorded.

(a) :func:`check_node_for_leaks`: branches whose pod is gone start cooling; the next check
    is scheduled in the run's ``details`` (1 min, growing with jitter to 15 min, back to
    1 min after a leak or a failed check).
(b) :func:`sweep_cluster`: ``available`` ENIs with our owner and cluster tags in the VPC,
    deleted when also seen on the previous sweep; ``leaked`` rows are retried here too.
(c) :func:`cleanup_terminated_node`: ``available`` ENIs tagged with a deleted node's
    instance id, deleted at once. Done once per deletion when it succeeds; a failed run is
    retried after a backoff that doubles with each failure; a node without an instance id
    has nothing tagged with it and is not cleaned up at all.

Settings: ``SGPADMIN_SWEEP_INTERVAL_SECONDS`` (1800), ``SGPADMIN_GC_RUN_RETENTION_DAYS`` (30:
older runs are pruned, except the cooldown announcements, which remember the value in force),
``SGPADMIN_NODE_CLEANUP_RETRY_SECONDS`` (30) and ``SGPADMIN_NODE_CLEANUP_RETRY_MAX_SECONDS``
(3600): the first wait after a failed node-termination cleanup, and the cap of its doubling.
"""

from __future__ import annotations

import datetime as dt
import logging
import random

from django.db.models import Count, Exists, Max, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from apps.controller.core import gc_plan
from apps.controller.core.constants import (
    CLUSTER_TAG_PREFIX,
    OWNER_VALUE,
    TAG_INSTANCE_ID,
    TAG_OWNER,
)
from apps.controller.models import GCRun, GCRunKind
from apps.controller.node_reconcile import ec2_port_for
from apps.controller.ports.cluster import ClusterPort
from apps.controller.ports.ec2 import EC2Port, error_code
from apps.controller.release import attempt_delete, policy_for, release_pod, setting
from apps.core.context import ChangeContext, change_scope
from apps.inventory.models import LIVE_BRANCH_STATES, BranchENI, BranchENIState, Cluster, Node

log = logging.getLogger(__name__)


def sweep_interval_seconds() -> float:
    return setting("SGPADMIN_SWEEP_INTERVAL_SECONDS", 1800.0)


def _record(kind: str, cluster: Cluster, started, node_name: str = "", **fields) -> GCRun:
    return GCRun.objects.create(kind=kind, cluster=cluster, node_name=node_name,
                                started=started, finished=timezone.now(), **fields)


# -- (a) per-node leak check ---------------------------------------------------------------------
def live_pods(port: ClusterPort, node_name: str) -> list[gc_plan.LivePod]:
    """The pods of one node (a branch's pod runs on the branch's node)."""
    return [gc_plan.LivePod(p["metadata"].get("uid", ""),
                            (p.get("status") or {}).get("phase") or "Pending",
                            bool(p["metadata"].get("deletionTimestamp")))
            for p in port.pods_on_node(node_name)]


def check_node_for_leaks(cluster: Cluster, node_name: str) -> GCRun:
    """Release the branches of pods that no longer hold their network; schedule the next."""
    started = timezone.now()
    last = last_run(cluster, GCRunKind.LEAK_CHECK, node_name)
    previous_interval = last.details.get("interval_seconds") if last else None
    with change_scope(context=ChangeContext.WORKER, actor_name="controller"):
        leaked: list[str] = []
        released, busy, error = 0, [], ""
        try:
            listed_at = timezone.now()
            pods = live_pods(ClusterPort(cluster), node_name)
            rows = BranchENI.objects.filter(
                cluster=cluster, node_name=node_name,
                state__in=[BranchENIState.CREATING, BranchENIState.ATTACHED])
            tracked = [gc_plan.TrackedBranch(b.pk, b.pod_uid, b.state, b.created) for b in rows]
            leaked = gc_plan.leaked_pod_uids(tracked, pods, listed_at)
            for pod_uid in leaked:
                count = release_pod(cluster, pod_uid)
                if count is None:
                    busy.append(pod_uid)
                else:
                    released += count
        except Exception as exc:
            log.warning("leak check of %s failed: %s", node_name, exc, exc_info=True)
            error = f"{error_code(exc)}: {exc}"[:500]
        interval = gc_plan.next_leak_check_interval(previous_interval, bool(leaked),
                                                    bool(error), random.random())
        next_at = timezone.now() + dt.timedelta(seconds=interval)
        return _record(GCRunKind.LEAK_CHECK, cluster, started, node_name,
                       found=len(leaked), error=error,
                       details={"pod_uids": leaked, "branches_released": released,
                                "busy_pods": busy, "interval_seconds": interval,
                                "next_at": next_at.isoformat()})


def last_run(cluster: Cluster, kind: str, node_name: str = "") -> GCRun | None:
    return GCRun.objects.filter(cluster=cluster, kind=kind, node_name=node_name).first()


def leak_checks_due(cluster: Cluster) -> list[str]:
    """Managed, present nodes whose next leak check time has come."""
    now = timezone.now()
    due = []
    for name in Node.objects.filter(cluster=cluster, managed=True, deleted_at__isnull=True
                                    ).values_list("name", flat=True):
        last = last_run(cluster, GCRunKind.LEAK_CHECK, name)
        next_at = last.details.get("next_at") if last else None
        if next_at is None or dt.datetime.fromisoformat(next_at) <= now:
            due.append(name)
    return due


# -- ENIs as the sweeps see them -----------------------------------------------------------------
def _available(ec2: EC2Port, cluster: Cluster, extra: list[dict]) -> list[gc_plan.AvailableENI]:
    enis = ec2.describe_enis([
        {"Name": "status", "Values": ["available"]},
        {"Name": f"tag:{TAG_OWNER}", "Values": [OWNER_VALUE]},
        {"Name": "vpc-id", "Values": [cluster.vpc_id]},
        *extra,
    ])
    ids = sorted({e["NetworkInterfaceId"] for e in enis})
    associated: set[str] = set()
    for start in range(0, len(ids), 200):
        chunk = ids[start:start + 200]
        for name in ("branch-interface-id", "trunk-interface-id"):
            for assoc in ec2.trunk_associations([
                    {"Name": f"trunk-interface-association.{name}", "Values": chunk}]):
                associated.add(assoc.get("BranchInterfaceId", ""))
                associated.add(assoc.get("TrunkInterfaceId", ""))
    return [gc_plan.AvailableENI(i, i in associated) for i in ids]


def tracked_eni_ids(cluster: Cluster) -> set[str]:
    return set(BranchENI.objects.filter(cluster=cluster, state__in=LIVE_BRANCH_STATES)
               .exclude(eni_id="").values_list("eni_id", flat=True))


def _delete_all(ec2: EC2Port, eni_ids) -> tuple[list[str], dict[str, str]]:
    deleted, failed = [], {}
    for eni_id in eni_ids:
        try:
            ec2.delete_eni(eni_id)
            deleted.append(eni_id)
        except Exception as exc:
            failed[eni_id] = error_code(exc)
    return deleted, failed


# -- (b) cluster sweep ---------------------------------------------------------------------------
def retry_leaked(cluster: Cluster, ec2: EC2Port) -> tuple[list[str], list[str]]:
    """One more delete of every ``leaked`` branch; success frees its VLAN at last."""
    policy = policy_for(cluster)
    freed, still = [], []
    for branch in BranchENI.objects.select_related("trunk").filter(
            cluster=cluster, state=BranchENIState.LEAKED):
        label = branch.eni_id or f"{branch.node_name} vlan {branch.vlan_id}"
        (freed if attempt_delete(ec2, branch, policy, leaked_stays=True) else still).append(label)
    return freed, still


def sweep_cluster(cluster: Cluster, ec2: EC2Port | None = None) -> GCRun:
    started = timezone.now()
    ec2 = ec2 or ec2_port_for(cluster)
    previous = last_run(cluster, GCRunKind.SWEEP)
    previous_candidates = previous.details.get("candidates", []) if previous else []
    with change_scope(context=ChangeContext.WORKER, actor_name="controller"):
        try:
            freed, still = retry_leaked(cluster, ec2)
            available = _available(ec2, cluster, [
                {"Name": f"tag:{CLUSTER_TAG_PREFIX}{cluster.name}", "Values": ["owned"]}])
            plan = gc_plan.plan_sweep(available, previous_candidates, tracked_eni_ids(cluster))
            deleted, failed = _delete_all(ec2, plan.delete)
        except Exception as exc:
            log.warning("sweep of %s failed: %s", cluster.name, exc, exc_info=True)
            return _record(GCRunKind.SWEEP, cluster, started, error=f"{error_code(exc)}: {exc}"[:500],
                           details={"candidates": previous_candidates})
        # A failed delete stays a candidate: the next run retries it (upstream counts it leaked).
        return _record(GCRunKind.SWEEP, cluster, started, found=len(plan.candidates),
                       deleted=len(deleted) + len(freed),
                       details={"candidates": list(plan.candidates), "deleted": deleted,
                                "failed": failed, "protected": list(plan.protected),
                                "leaked_freed": freed, "leaked_remaining": still})


def sweep_due(cluster: Cluster) -> bool:
    last = last_run(cluster, GCRunKind.SWEEP)
    return gc_plan.sweep_due(last.started if last else None, timezone.now(),
                             sweep_interval_seconds())


# -- (c) node-termination cleanup ----------------------------------------------------------------
def cleanup_terminated_node(cluster: Cluster, node: Node, ec2: EC2Port | None = None) -> GCRun:
    started = timezone.now()
    if not node.instance_id:  # nothing can carry its tag: done (the tick does not send these)
        return _record(GCRunKind.NODE_TERMINATION, cluster, started, node.name,
                       details={"skipped": "node has no instance id"})
    ec2 = ec2 or ec2_port_for(cluster)
    try:
        available = _available(ec2, cluster, [
            {"Name": f"tag:{TAG_INSTANCE_ID}", "Values": [node.instance_id]}])
        targets = gc_plan.plan_node_termination(available, tracked_eni_ids(cluster))
        deleted, failed = _delete_all(ec2, targets)
    except Exception as exc:
        return _record(GCRunKind.NODE_TERMINATION, cluster, started, node.name,
                       error=f"{error_code(exc)}: {exc}"[:500])
    return _record(GCRunKind.NODE_TERMINATION, cluster, started, node.name,
                   found=len(targets), deleted=len(deleted),
                   error=f"{len(failed)} deletes failed" if failed else "",
                   details={"instance_id": node.instance_id, "deleted": deleted,
                            "failed": failed})


def terminated_nodes_due(cluster: Cluster) -> list[Node]:
    """Deleted nodes with an instance id whose branches are all released, that had no clean
    cleanup since their deletion, and whose backoff after a failed one is over."""
    holding = set(BranchENI.objects.filter(cluster=cluster, state__in=[
        BranchENIState.CREATING, BranchENIState.ATTACHED, BranchENIState.COOLING,
        BranchENIState.DELETING]).values_list("node_name", flat=True))
    base = setting("SGPADMIN_NODE_CLEANUP_RETRY_SECONDS", gc_plan.NODE_CLEANUP_RETRY_SECONDS)
    cap = setting("SGPADMIN_NODE_CLEANUP_RETRY_MAX_SECONDS",
                  gc_plan.NODE_CLEANUP_RETRY_MAX_SECONDS)
    now = timezone.now()
    # The runs since each node's deletion, counted in the one query that lists the nodes.
    runs = GCRun.objects.filter(cluster=cluster, kind=GCRunKind.NODE_TERMINATION,
                                node_name=OuterRef("name"), started__gte=OuterRef("deleted_at"))
    failed = runs.exclude(error="").order_by().values("node_name")
    nodes = (Node.objects.filter(cluster=cluster, deleted_at__isnull=False)
             .exclude(instance_id="").exclude(name__in=holding)
             .annotate(cleaned=Exists(runs.filter(error="")),
                       failed_runs=Coalesce(Subquery(failed.annotate(n=Count("pk"))
                                                     .values("n")[:1]), 0),
                       last_failed=Subquery(failed.annotate(at=Max("started"))
                                            .values("at")[:1]))
             .filter(cleaned=False))
    return [node for node in nodes
            if gc_plan.node_cleanup_due(node.failed_runs, node.last_failed, now, base, cap)]


def prune_runs() -> int:
    """Forget runs older than the retention (the newest of each node or cluster is recent)."""
    days = setting("SGPADMIN_GC_RUN_RETENTION_DAYS", 30.0)
    cutoff = timezone.now() - dt.timedelta(days=days)
    deleted, _ = GCRun.objects.filter(started__lt=cutoff).exclude(
        kind=GCRunKind.COOLDOWN_UPDATE).delete()
    return deleted
