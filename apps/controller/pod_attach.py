"""Pod attach (reference §4.2): from a scheduled pod to its annotated branch ENI.

The decisions are the core's (:mod:`apps.controller.core.pod_plan`); this module loads the
pod, node, trunk, policies and branches, runs the steps through the ports and records rows.
Throttling and 5xx errors propagate unchanged (the task retries them, with no pod event);
any other failure discards what the attempt created and emits upstream's event.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from kubernetes.client.exceptions import ApiException

from apps.controller.branch_lifecycle import (
    Reservation,
    discard_branch,
    ensure_branch,
    reserve_vlan,
)
from apps.controller.cluster_objects import pod_facts
from apps.controller.core.annotation import render_annotation
from apps.controller.core.constants import POD_ENI
from apps.controller.core.groups import select_groups
from apps.controller.core.model import Event, EventType
from apps.controller.core.pod_plan import (
    AtCapacity,
    Ignore,
    NodeStatus,
    Release,
    Requeue,
    triage_pod,
)
from apps.controller.locks import pod_lock
from apps.controller.node_reconcile import ec2_port_for, of_another_instance
from apps.controller.ports.cluster import ClusterPort, PodChanged
from apps.controller.ports.cluster import is_retryable as is_transient
from apps.controller.ports.ec2 import is_retryable
from apps.core.context import ChangeContext, change_scope
from apps.inventory.models import (
    Attachment,
    BranchENI,
    BranchENIState,
    Cluster,
    Node,
    Pod,
    ServiceAccount,
)
from apps.policies.matching import PolicyView, needs_service_account
from apps.policies.models import Policy

log = logging.getLogger(__name__)
ANNOTATE_CONFLICT_RETRIES = 4


@dataclass(frozen=True)
class PodOutcome:
    result: str  # attached, ignored, requeue, release, busy, gone
    detail: str = ""
    requeue_after: float | None = None
    release_uid: str = ""  # a pod UID whose branches the release worker must cool down


# The lookups of the attach path order by primary key, not by the models' default ordering,
# which would join the cluster table for its name.


def _node_status(cluster: Cluster, node_name: str):
    node = (Node.objects.select_related("trunk")
            .filter(cluster=cluster, name=node_name, deleted_at__isnull=True)
            .order_by("pk").first())
    if node is None:
        return None, None, None
    trunk = getattr(node, "trunk", None) if node.managed else None
    if trunk is not None and of_another_instance(trunk, node):
        trunk = None  # the node's previous instance's: the node reconcile replaces it
    return node, trunk, NodeStatus(True, node.managed, trunk is not None, node.branch_capacity)


def _emit(port: ClusterPort, pod: dict, event: Event) -> None:
    try:
        port.emit_event("Pod", pod, event)
    except Exception:
        log.warning("could not record pod event %s", event.reason, exc_info=True)


def _groups(cluster: Cluster, facts, node: Node):
    policies = [PolicyView(name=name, spec=spec) for name, spec in Policy.objects.filter(
        cluster=cluster, namespace=facts.namespace).order_by("name").values_list("name", "spec")]
    sa_labels = None
    if needs_service_account(policies):  # only a serviceAccountSelector reads the labels
        accounts = ServiceAccount.objects.filter(cluster=cluster, namespace=facts.namespace,
                                                 name=facts.service_account_name)
        found = accounts.order_by("pk").values_list("labels", flat=True).first()
        sa_labels = None if found is None else dict(found or {})
    return select_groups(policies, facts.labels, sa_labels, node.security_group_ids)


def _annotate(port: ClusterPort, live: dict, value: str) -> dict:
    """Patch the annotation onto this pod UID, re-reading on a version conflict."""
    meta = live["metadata"]
    uid = meta["uid"]
    for _ in range(ANNOTATE_CONFLICT_RETRIES):
        try:
            return port.annotate_pod(meta["namespace"], meta["name"], uid,
                                     meta.get("resourceVersion", ""), POD_ENI, value)
        except ApiException as exc:
            if exc.status != 409:
                raise
        current = port.get_pod(meta["namespace"], meta["name"])
        if current is None or current["metadata"].get("uid") != uid:
            raise PodChanged(f"pod {meta['namespace']}/{meta['name']} was re-created or deleted")
        meta = current["metadata"]
    raise PodChanged("the pod kept changing while being annotated")


def _annotation_refused(exc: BaseException) -> bool:
    """The API server answered the patch with a definite no (the pod changed, or a 4xx other
    than throttling): the pod does not carry the annotation."""
    if isinstance(exc, PodChanged):
        return True
    return isinstance(exc, ApiException) and not is_transient(exc)


def attach_pod(cluster: Cluster, namespace: str, name: str, uid: str = "") -> PodOutcome:
    """Attach a branch ENI to the pod ``namespace/name`` (with this UID, when given)."""
    with change_scope(context=ChangeContext.WORKER, actor_name="controller"):
        cached = (Pod.objects.filter(cluster=cluster, namespace=namespace, name=name,
                                     deleted_at__isnull=True)
                  .order_by("pk").values_list("uid", "pod_eni_annotation").first())
        if (cached is not None and cached[1] and (not uid or cached[0] == uid)
                and Attachment.objects.filter(cluster=cluster, pod_uid=cached[0],
                                              until__isnull=True).exists()):
            # Annotated and recorded. (Annotated only, the annotation mirrored by the watcher
            # before a crash kept the attempt from recording it: the full path records it.)
            return PodOutcome("ignored", "already annotated (cache)")
        port = ClusterPort(cluster)
        if not uid:  # learn the UID first (the watcher always passes it)
            live = port.get_pod(namespace, name)
            if live is None:
                return PodOutcome("gone", "pod deleted")
            uid = live["metadata"]["uid"]
        with pod_lock(cluster.pk, uid) as owned:
            if not owned:
                return PodOutcome("busy", "another worker is handling this pod", 1.0)
            return _attach_locked(cluster, port, namespace, name, uid)


def _attach_locked(cluster, port, namespace: str, name: str, uid: str) -> PodOutcome:
    live = port.get_pod(namespace, name)  # fresh, now that we own the pod
    if live is None or live["metadata"].get("uid") != uid:
        return PodOutcome("gone", "pod deleted or re-created", release_uid=uid)
    facts = pod_facts(live)
    if facts.annotated:
        done = BranchENI.objects.filter(cluster=cluster, pod_uid=facts.uid,
                                        state=BranchENIState.ATTACHED).first()
        if done is not None and not Attachment.objects.filter(
                eni_id=done.eni_id, until__isnull=True).exists():
            # annotated before a crash, rows not yet written: write them
            _record(cluster, facts, done, live["metadata"]["annotations"][POD_ENI])
    node, trunk, status = _node_status(cluster, facts.node_name)
    decision = triage_pod(facts, status)
    if isinstance(decision, Ignore):
        return PodOutcome("ignored", decision.reason)
    if isinstance(decision, Requeue):
        return PodOutcome("requeue", decision.reason, decision.after_seconds)
    if isinstance(decision, Release):
        return PodOutcome("release", decision.reason, release_uid=facts.uid)
    selection = _groups(cluster, facts, node)
    reservation = reserve_vlan(cluster, node, trunk, facts, list(selection.group_ids))
    if isinstance(reservation, AtCapacity):
        return PodOutcome("requeue", "trunk at capacity", reservation.after_seconds)
    if not reservation.resumed:
        _emit(port, live, selection.event)
    ec2 = ec2_port_for(cluster)
    branch = reservation.branch
    try:
        details = ensure_branch(ec2, cluster, node, trunk, reservation)
    except Exception as exc:
        if is_retryable(exc):
            raise  # the reservation stays and the retry resumes it
        discard_branch(ec2, branch, trunk, f"allocation failed: {exc}")
        _emit(port, live, Event(EventType.WARNING, "BranchAllocationFailed",
                                f"failed to allocate branch ENI to pod: {exc}"))
        raise
    value = render_annotation([details])
    try:
        _annotate(port, live, value)
    except Exception as exc:
        if not _annotation_refused(exc):
            # Throttled, API server trouble, a connection that broke off: the patch may have
            # been applied. Keep the attached branch; the retry reads the pod and either
            # records the annotation it finds or annotates it.
            raise
        discard_branch(ec2, branch, trunk, f"annotation failed: {exc}")
        _emit(port, live, Event(EventType.WARNING, "BranchENIAnnotationFailed",
                                f"failed to annotate pod with branch ENI details: {exc}"))
        if isinstance(exc, PodChanged):
            return PodOutcome("gone", str(exc))
        raise
    _record(cluster, facts, branch, value)
    _emit(port, live, Event(EventType.NORMAL, "ResourceAllocated",
                            f"Allocated {value} to the pod"))
    return PodOutcome("attached", branch.eni_id)


def _record(cluster, facts, branch: BranchENI, value: str) -> None:
    now = timezone.now()
    with transaction.atomic():
        # The Pod row mirrors the cluster (the watcher writes it); only the annotation is ours.
        mirrored = Pod.objects.filter(cluster=cluster, uid=facts.uid).update(
            pod_eni_annotation=json.loads(value))
        if not mirrored:
            Pod.objects.create(
                cluster=cluster, uid=facts.uid, namespace=facts.namespace, name=facts.name,
                node_name=facts.node_name, phase=facts.phase,
                service_account_name=facts.service_account_name, labels=facts.labels,
                requests_pod_eni=True, pod_eni_annotation=json.loads(value))
        # A resumed attempt may find the attachment already open: the database's "one open
        # attachment per ENI" constraint makes the insert a no-op then (one statement instead
        # of get_or_create's select, savepoint and insert).
        Attachment.objects.bulk_create([Attachment(
            cluster=cluster, branch=branch, eni_id=branch.eni_id, node_name=branch.node_name,
            pod_uid=facts.uid, pod_namespace=facts.namespace, pod_name=facts.name,
            private_ip=branch.private_ip, mac=branch.mac, vlan_id=branch.vlan_id,
            security_group_ids=branch.security_group_ids, since=now)], ignore_conflicts=True)


__all__ = ["PodOutcome", "Reservation", "attach_pod"]
