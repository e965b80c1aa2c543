"""Cluster objects (as the watcher sees them) into inventory rows, and what to reconcile.

Each ``apply_*`` function upserts one object's row (writing only what changed, so the audit
log records real changes only) and returns the reconciles the change calls for. Each
``forget_*`` function applies the deletion of an object known only by its key (the watcher's
``(namespace, name)``, or ``(namespace, uid)`` for pods): a relist finds rows in
``stored_keys`` whose objects the cluster no longer lists, for instance after the watcher was
down while they were deleted.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone

from apps.controller.cluster_objects import cninode_features, node_facts, pod_facts
from apps.controller.core.annotation import AnnotationError, parse_annotation
from apps.controller.core.constants import POD_ENI
from apps.controller.core.pod_plan import TERMINAL_PHASES
from apps.inventory.models import Cluster, Node, Pod, ServiceAccount
from apps.policies.models import Policy


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


def _mark_deleted(row) -> None:
    if row is not None and row.deleted_at is None:
        _update(row, {"deleted_at": timezone.now()})


def forget_node(cluster: Cluster, key: tuple[str, str]) -> list:
    name = key[1]
    _mark_deleted(Node.objects.filter(cluster=cluster, name=name).first())
    return [NodeWork(name)]


def apply_node(cluster: Cluster, event: str, obj: dict) -> list:
    name = obj["metadata"]["name"]
    if event == "DELETED":
        return forget_node(cluster, ("", name))
    row = Node.objects.filter(cluster=cluster, name=name).first()
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


def _set_cninode_features(cluster: Cluster, name: str, features: list[str]) -> list:
    row = Node.objects.filter(cluster=cluster, name=name).first()
    if row is None:
        return [NodeWork(name)]
    return [NodeWork(name)] if _update(row, {"cninode_features": features}) else []


def forget_cninode(cluster: Cluster, key: tuple[str, str]) -> list:
    return _set_cninode_features(cluster, key[1], [])


def apply_cninode(cluster: Cluster, event: str, obj: dict) -> list:
    features = [] if event == "DELETED" else list(cninode_features(obj))
    return _set_cninode_features(cluster, obj["metadata"]["name"], features)


def forget_pod(cluster: Cluster, key: tuple[str, str], requested_enis: int = 0) -> list:
    """The pod is gone: its row is marked deleted, and its branches released if it asked for
    any (as the deleted object says, or as its row recorded)."""
    uid = key[1]
    row = Pod.objects.filter(cluster=cluster, uid=uid).first()
    _mark_deleted(row)
    requested = requested_enis > 0 or (row is not None and row.requests_pod_eni)
    return [PodRelease(uid)] if requested else []


def apply_pod(cluster: Cluster, event: str, obj: dict) -> list:
    facts = pod_facts(obj)
    if event == "DELETED":
        return forget_pod(cluster, (facts.namespace, facts.uid), facts.requested_enis)
    row = Pod.objects.filter(cluster=cluster, uid=facts.uid).first()
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


def forget_service_account(cluster: Cluster, key: tuple[str, str]) -> list:
    for row in ServiceAccount.objects.filter(cluster=cluster, namespace=key[0], name=key[1]):
        row.delete()
    return []


def apply_service_account(cluster: Cluster, event: str, obj: dict) -> list:
    meta = obj["metadata"]
    if event == "DELETED":
        return forget_service_account(cluster, (meta["namespace"], meta["name"]))
    lookup = {"cluster": cluster, "namespace": meta["namespace"], "name": meta["name"]}
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


def forget_policy(cluster: Cluster, key: tuple[str, str]) -> list:
    return [PolicySyncWork()]


APPLY = {
    "Node": apply_node,
    "CNINode": apply_cninode,
    "Pod": apply_pod,
    "ServiceAccount": apply_service_account,
    "SecurityGroupPolicy": apply_policy,
}

FORGET = {
    "Node": forget_node,
    "CNINode": forget_cninode,
    "Pod": forget_pod,
    "ServiceAccount": forget_service_account,
    "SecurityGroupPolicy": forget_policy,
}


def stored_keys(cluster: Cluster, kind: str) -> set[tuple[str, str]]:
    """The watcher keys of the objects of ``kind`` that the inventory holds as present."""
    if kind == "Node":
        names = Node.objects.filter(cluster=cluster, deleted_at__isnull=True)
        return {("", name) for name in names.values_list("name", flat=True)}
    if kind == "CNINode":
        rows = Node.objects.filter(cluster=cluster).exclude(cninode_features=[])
        return {("", name) for name in rows.values_list("name", flat=True)}
    if kind == "Pod":
        pods = Pod.objects.filter(cluster=cluster, deleted_at__isnull=True)
        return set(pods.values_list("namespace", "uid"))
    if kind == "ServiceAccount":
        accounts = ServiceAccount.objects.filter(cluster=cluster)
        return set(accounts.values_list("namespace", "name"))
    if kind == "SecurityGroupPolicy":
        return set(Policy.objects.filter(cluster=cluster).values_list("namespace", "name"))
    raise ValueError(f"unknown kind {kind!r}")
