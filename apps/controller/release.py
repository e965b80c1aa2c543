"""Release of branch ENIs (reference §4.5, §4.7): cooldown, disassociate, delete, free VLAN.

The delete queue is the branch rows in ``cooling`` and ``deleting``; the decisions are
:mod:`apps.controller.core.release_plan`'s. One pass per node at a time (a try lock on the
node: a second worker skips instead of waiting). The pod side of a release (a pod deleted
or finished: rows to ``cooling``, attachments closed) is
:func:`apps.controller.branch_lifecycle.start_cooldown`; :func:`release_pod` adds the rows of
an attempt that was cut off (``creating``), under the pod's lock.

Settings (environment, or Django settings of the same name):

- ``SGPADMIN_MIN_COOLDOWN_SECONDS`` (30): the floor of ``Cluster.branch_cooldown_seconds``.
  Only tests and the soak benchmark lower it, to compress time.
- ``SGPADMIN_BRANCH_DELETE_ATTEMPTS`` (5): failed deletes before a branch is ``leaked``.
- ``SGPADMIN_DELETE_BACKOFF_SECONDS`` (1): first wait between attempts (x3 each, cap 60 s).
- ``SGPADMIN_NODE_DELETE_GRACE_SECONDS`` (60): wait after a node is deleted before all its
  branches are released, ignoring cooldown.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.controller.branch_lifecycle import start_cooldown
from apps.controller.core import release_plan
from apps.controller.core.release_plan import QueuedBranch, ReleasePolicy
from apps.controller.locks import locked, pod_lock, try_lock
from apps.controller.models import GCRun, GCRunKind
from apps.controller.node_reconcile import ec2_port_for
from apps.controller.ports.cluster import ClusterPort
from apps.controller.ports.ec2 import EC2Port, error_code
from apps.core.context import ChangeContext, change_scope
from apps.inventory.models import (
    MIN_COOLDOWN_SECONDS,
    Attachment,
    BranchENI,
    BranchENIState,
    Cluster,
    Node,
)

log = logging.getLogger(__name__)
QUEUE_STATES = (BranchENIState.COOLING, BranchENIState.DELETING)
IN_SERVICE_STATES = (BranchENIState.CREATING, BranchENIState.ATTACHED)


def setting(name: str, default: float) -> float:
    """A number from the environment, else Django settings, else the default."""
    raw = os.environ.get(name)
    if raw not in (None, ""):
        return float(raw)
    return float(getattr(settings, name, default))


def cooldown_seconds(cluster: Cluster) -> int:
    minimum = int(setting("SGPADMIN_MIN_COOLDOWN_SECONDS", MIN_COOLDOWN_SECONDS))
    return release_plan.effective_cooldown(cluster.branch_cooldown_seconds, minimum)


def policy_for(cluster: Cluster) -> ReleasePolicy:
    return ReleasePolicy(
        cooldown_seconds=cooldown_seconds(cluster),
        max_delete_attempts=int(setting("SGPADMIN_BRANCH_DELETE_ATTEMPTS",
                                        release_plan.DEFAULT_MAX_DELETE_ATTEMPTS)),
        backoff_base_seconds=setting("SGPADMIN_DELETE_BACKOFF_SECONDS", 1.0))


def node_grace_seconds() -> float:
    return setting("SGPADMIN_NODE_DELETE_GRACE_SECONDS", 60.0)


def queued(branch: BranchENI) -> QueuedBranch:
    last = branch.updated if branch.delete_attempts else None
    return QueuedBranch(branch.pk, branch.state, branch.cooling_since, branch.delete_attempts,
                        last)


# -- the pod side ------------------------------------------------------------------------------
def close_attachments(cluster: Cluster, pod_uid: str, now) -> int:
    """Close the pod's open attachment rows (``until`` strictly after ``since``)."""
    closed = 0
    for attachment in Attachment.objects.filter(cluster=cluster, pod_uid=pod_uid,
                                                until__isnull=True):
        attachment.until = max(now, attachment.since + dt.timedelta(microseconds=1))
        attachment.save(update_fields=["until"])
        closed += 1
    return closed


def release_pod(cluster: Cluster, pod_uid: str) -> int | None:
    """A pod is gone or finished: every branch it holds starts cooling.

    Returns how many branches started cooling, or None when another worker holds the pod
    (an attach in progress): the caller tries again later.
    """
    with change_scope(context=ChangeContext.WORKER, actor_name="controller"):
        with pod_lock(cluster.pk, pod_uid) as owned:
            if not owned:
                return None
            count = start_cooldown(cluster, pod_uid)
            now = timezone.now()
            with transaction.atomic():
                for branch in locked(BranchENI.objects.filter(
                        cluster=cluster, pod_uid=pod_uid, state=BranchENIState.CREATING)):
                    branch.state, branch.cooling_since = BranchENIState.COOLING, now
                    branch.save(update_fields=["state", "cooling_since", "updated"])
                    count += 1
                close_attachments(cluster, pod_uid, now)
            return count


# -- one delete ----------------------------------------------------------------------------------
def delete_in_ec2(ec2: EC2Port, branch: BranchENI) -> None:
    """Disassociate (when we know the association) and delete; NotFound is success.

    A failed disassociate is logged and the delete still goes ahead, as upstream does: EC2
    drops the association of a deleted branch.
    """
    eni_id = branch.eni_id
    if not eni_id:  # the create may have happened with its answer lost
        found = ec2.find_branch(branch.trunk.eni_id, branch.vlan_id,
                                list(branch.security_group_ids))
        eni_id = found.eni_id if found else ""
    if branch.association_id:
        try:
            ec2.disassociate(branch.association_id)
        except Exception as exc:
            log.warning("disassociate %s failed (%s); deleting anyway",
                        branch.association_id, error_code(exc))
    if eni_id:
        ec2.delete_eni(eni_id)


def attempt_delete(ec2: EC2Port, branch: BranchENI, policy: ReleasePolicy,
                   *, leaked_stays: bool = False) -> bool:
    """One delete attempt; the row becomes ``deleted`` or records the failure."""
    try:
        delete_in_ec2(ec2, branch)
    except Exception as exc:
        if not (leaked_stays and branch.state == BranchENIState.LEAKED):
            branch.state = release_plan.state_after_failure(branch.delete_attempts, policy)
        branch.delete_attempts += 1
        branch.last_error = f"{error_code(exc)}: {exc}"[:500]
        branch.save(update_fields=["state", "delete_attempts", "last_error", "updated"])
        if branch.state == BranchENIState.LEAKED:
            log.error("branch %s (VLAN %s on %s) is leaked after %s failed deletes: %s",
                      branch.eni_id, branch.vlan_id, branch.node_name, branch.delete_attempts,
                      branch.last_error)
        return False
    branch.state, branch.released_at, branch.last_error = (
        BranchENIState.DELETED, timezone.now(), "")
    branch.save(update_fields=["state", "released_at", "last_error", "updated"])
    return True


# -- the queue of one node -----------------------------------------------------------------------
@dataclass
class QueueOutcome:
    busy: bool = False
    deleted: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    leaked: list[str] = field(default_factory=list)
    next_due_in: float | None = None


def process_node_queue(cluster: Cluster, node_name: str, *, ignore_cooldown: bool = False,
                       ec2: EC2Port | None = None) -> QueueOutcome:
    """Delete every branch of the node whose cooldown (or retry backoff) is over."""
    with change_scope(context=ChangeContext.WORKER, actor_name="controller"):
        with try_lock("release", cluster.pk, node_name) as owned:
            if not owned:
                return QueueOutcome(busy=True)
            return _process_locked(cluster, node_name, ignore_cooldown, ec2)


def _process_locked(cluster, node_name, ignore_cooldown, ec2) -> QueueOutcome:
    policy = policy_for(cluster)
    rows = BranchENI.objects.filter(cluster=cluster, node_name=node_name, state__in=QUEUE_STATES)
    now = timezone.now()
    due = release_plan.due_for_deletion([queued(b) for b in rows], now, policy, ignore_cooldown)
    outcome = QueueOutcome()
    if due:
        ec2 = ec2 or ec2_port_for(cluster)
    for branch_id in due:
        branch = BranchENI.objects.select_related("trunk").filter(
            pk=branch_id, state__in=QUEUE_STATES).first()
        if branch is None:  # someone else finished it meanwhile
            continue
        label = branch.eni_id or f"vlan {branch.vlan_id}"
        if attempt_delete(ec2, branch, policy):
            outcome.deleted.append(label)
        elif branch.state == BranchENIState.LEAKED:
            outcome.leaked.append(label)
        else:
            outcome.failed.append(label)
    remaining = BranchENI.objects.filter(cluster=cluster, node_name=node_name,
                                         state__in=QUEUE_STATES)
    outcome.next_due_in = release_plan.next_due_in(
        [queued(b) for b in remaining], timezone.now(), policy)
    return outcome


def nodes_with_queued_branches(cluster: Cluster) -> list[str]:
    return sorted(set(BranchENI.objects.filter(cluster=cluster, state__in=QUEUE_STATES)
                      .values_list("node_name", flat=True)))


# -- node deletion -------------------------------------------------------------------------------
def release_deleted_node(cluster: Cluster, node: Node, ec2: EC2Port | None = None) -> GCRun:
    """All branches of a deleted node: released at once, ignoring cooldown (upstream #574)."""
    started = timezone.now()
    with change_scope(context=ChangeContext.WORKER, actor_name="controller"):
        pod_uids = sorted(set(BranchENI.objects.filter(
            cluster=cluster, node_name=node.name, state__in=IN_SERVICE_STATES,
        ).values_list("pod_uid", flat=True)))
        for pod_uid in pod_uids:
            release_pod(cluster, pod_uid)
        outcome = process_node_queue(cluster, node.name, ignore_cooldown=True, ec2=ec2)
        return GCRun.objects.create(
            kind=GCRunKind.NODE_RELEASE, cluster=cluster, node_name=node.name, started=started,
            finished=timezone.now(), found=len(outcome.deleted) + len(outcome.failed)
            + len(outcome.leaked), deleted=len(outcome.deleted),
            error="another worker is releasing this node" if outcome.busy else "",
            details={"pods": pod_uids, "deleted": outcome.deleted, "failed": outcome.failed,
                     "leaked": outcome.leaked})


def mark_node_deleted(node: Node) -> None:
    """The cluster no longer has the node: its release follows after the grace period."""
    with change_scope(context=ChangeContext.WORKER, actor_name="controller"):
        node.deleted_at = timezone.now()
        node.save(update_fields=["deleted_at", "updated"])


def deleted_nodes_due(cluster: Cluster) -> list[Node]:
    """Deleted nodes past the grace period that still hold branches to release."""
    now, grace = timezone.now(), node_grace_seconds()
    holding = set(BranchENI.objects.filter(
        cluster=cluster, state__in=[*IN_SERVICE_STATES, *QUEUE_STATES],
    ).values_list("node_name", flat=True))
    nodes = Node.objects.filter(cluster=cluster, deleted_at__isnull=False, name__in=holding)
    return [n for n in nodes if release_plan.node_release_due(n.deleted_at, now, grace)]


# -- cooldown changes ----------------------------------------------------------------------------
def announce_cooldown_change(cluster: Cluster) -> GCRun | None:
    """Upstream's ``BranchENICoolDownPeriodUpdated`` on every node when the value changed.

    The change itself is in the audit log (Cluster is change-logged); this records which
    value was announced, so each change is announced once, and the first sight only records.
    """
    current = cooldown_seconds(cluster)
    last = GCRun.objects.filter(cluster=cluster, kind=GCRunKind.COOLDOWN_UPDATE).first()
    previous = last.details.get("cooldown_seconds") if last else None
    if previous == current:
        return None
    event = release_plan.cooldown_announcement(previous, current)
    notified = []
    if event is not None:
        log.info("cluster %s: %s", cluster.name, event.message)
        port = ClusterPort(cluster)
        for node in Node.objects.filter(cluster=cluster, managed=True, deleted_at__isnull=True):
            try:
                port.emit_event("Node", {"metadata": {"name": node.name}}, event)
                notified.append(node.name)
            except Exception:
                log.warning("could not record %s on node %s", event.reason, node.name,
                            exc_info=True)
    now = timezone.now()
    return GCRun.objects.create(
        kind=GCRunKind.COOLDOWN_UPDATE, cluster=cluster, started=now, finished=now,
        details={"cooldown_seconds": current, "previous_seconds": previous,
                 "message": event.message if event else "first sight", "nodes": notified})
