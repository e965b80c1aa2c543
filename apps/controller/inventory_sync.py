"""Cluster objects (as the watcher sees them) into inventory rows, and what to reconcile.

Each ``apply_*`` function upserts one object's row (writing only what changed, so the audit
log records real changes only) and returns the reconciles the change calls for.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone

from apps.controller.cluster_objects import cninode_features, node_facts, pod_facts
from apps.controller.core.annotation import AnnotationError, parse_annotation
from apps.controller.core.constants import POD_ENI
from apps.controller.core.pod_plan import TERMINAL_PHASES
from apps.inventory.models import Cluster, Node, Pod, ServiceAccount


@dataclass(frozen=True)
class NodeWork:
    name: str


@dataclass(frozen=True)
class PolicySyncWork:
    """Run a policy sync pass for the cluster."""


@dataclass(frozen=True)
class PodWork:
    namespace: str
    name: str
    uid: str


@dataclass(frozen=True)
class PodRelease:
    """The pod is gone or finished: its branches start their cooldown."""

    uid: str


def _update(row, values: dict) -> bool:
    dirty = [k for k, v in values.items() if getattr(row, k) != v]
    for key in dirty:
        setattr(row, key, values[key])
    if dirty:
        row.save(update_fields=[*dirty, "updated"] if row.pk else None)
    return bool(dirty)


def _parsed(annotation: str | None):
    if annotation is None:
        return None
    try:
        return parse_annotation(annotation)
    except AnnotationError:
        return {"unparsable": annotation[:500]}


def apply_node(cluster: Cluster, event: str, obj: dict) -> list:
    name = obj["metadata"]["name"]
    row = Node.objects.filter(cluster=cluster, name=name).first()
    if event == "DELETED":
        if row is not None and row.deleted_at is None:
            _update(row, {"deleted_at": timezone.now()})
        return [NodeWork(name)]
    facts = node_facts(obj, tuple(row.cninode_features) if row else ())
    values = {"uid": obj["metadata"].get("uid", ""), "labels": facts.labels,
              "instance_type": facts.instance_type,
              "instance_id": facts.provider_id.rstrip("/").rsplit("/", 1)[-1]
              if facts.provider_id else "", "deleted_at": None}
    if row is None:
        row = Node(cluster=cluster, name=name)
    changed = _update(row, values)
    capacity = (obj.get("status") or {}).get("capacity") or {}
    stale_capacity = row.managed and capacity.get(POD_ENI) != str(row.branch_capacity)
    return [NodeWork(name)] if changed or stale_capacity or event == "ADDED" else []


def apply_cninode(cluster: Cluster, event: str, obj: dict) -> list:
    name = obj["metadata"]["name"]
    features = [] if event == "DELETED" else list(cninode_features(obj))
    row = Node.objects.filter(cluster=cluster, name=name).first()
    if row is None:
        return [NodeWork(name)]
    return [NodeWork(name)] if _update(row, {"cninode_features": features}) else []


def apply_pod(cluster: Cluster, event: str, obj: dict) -> list:
    facts = pod_facts(obj)
    row = Pod.objects.filter(cluster=cluster, uid=facts.uid).first()
    if event == "DELETED":
        if row is not None and row.deleted_at is None:
            _update(row, {"deleted_at": timezone.now()})
        return [PodRelease(facts.uid)] if facts.requested_enis else []
    annotation = (obj["metadata"].get("annotations") or {}).get(POD_ENI)
    values = {
        "namespace": facts.namespace, "name": facts.name, "node_name": facts.node_name,
        "service_account_name": facts.service_account_name, "labels": facts.labels,
        "phase": facts.phase, "host_network": bool(obj.get("spec", {}).get("hostNetwork")),
        "requests_pod_eni": facts.requested_enis > 0,
    }
    values["pod_eni_annotation"] = _parsed(annotation)
    if row is None:
        row = Pod(cluster=cluster, uid=facts.uid)
    _update(row, values)
    if facts.requested_enis <= 0 or not facts.node_name:
        return []
    if facts.deleting or facts.phase in TERMINAL_PHASES:
        return [PodRelease(facts.uid)]
    if annotation is None:
        return [PodWork(facts.namespace, facts.name, facts.uid)]
    return []


def apply_service_account(cluster: Cluster, event: str, obj: dict) -> list:
    meta = obj["metadata"]
    lookup = {"cluster": cluster, "namespace": meta["namespace"], "name": meta["name"]}
    if event == "DELETED":
        for row in ServiceAccount.objects.filter(**lookup):
            row.delete()
        return []
    row = ServiceAccount.objects.filter(**lookup).first() or ServiceAccount(**lookup)
    _update(row, {"uid": meta.get("uid", ""), "labels": dict(meta.get("labels") or {})})
    return []


def apply_policy(cluster: Cluster, event: str, obj: dict) -> list:
    """A SecurityGroupPolicy changed in the cluster: that is the policy sync's business.

    The sync (``apps.policies.sync``) compares the whole cluster with the database and
    imports, mirrors, restores or deletes as its rules say; importing here as well would
    race with it (and resurrect a policy deleted in sgpadmin whose object is still there).
    """
    return [PolicySyncWork()]


APPLY = {
    "Node": apply_node,
    "CNINode": apply_cninode,
    "Pod": apply_pod,
    "ServiceAccount": apply_service_account,
    "SecurityGroupPolicy": apply_policy,
}
