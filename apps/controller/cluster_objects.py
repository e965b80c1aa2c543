"""Kubernetes objects (plain dicts from the cluster port) as the core's facts."""

from __future__ import annotations

from typing import Any

from apps.controller.core.constants import POD_ENI, SGP_FEATURE
from apps.controller.core.model import NodeFacts, PodFacts


def _quantity(value: Any) -> int:
    try:
        return int(str(value))
    except ValueError:
        return 0


def requested_pod_enis(pod: dict) -> int:
    """Sum of ``vpc.amazonaws.com/pod-eni`` requests (or limits) over all containers."""
    total = 0
    for container in pod.get("spec", {}).get("containers") or []:
        resources = container.get("resources") or {}
        amount = (resources.get("requests") or {}).get(POD_ENI)
        if amount is None:
            amount = (resources.get("limits") or {}).get(POD_ENI)
        total += _quantity(amount) if amount is not None else 0
    return total


def pod_facts(pod: dict) -> PodFacts:
    meta = pod.get("metadata", {})
    spec = pod.get("spec", {})
    return PodFacts(
        namespace=meta.get("namespace", ""), name=meta.get("name", ""), uid=meta.get("uid", ""),
        node_name=spec.get("nodeName") or "",
        phase=(pod.get("status") or {}).get("phase") or "Pending",
        labels=dict(meta.get("labels") or {}),
        service_account_name=spec.get("serviceAccountName") or "default",
        requested_enis=requested_pod_enis(pod),
        annotated=POD_ENI in (meta.get("annotations") or {}),
        deleting=bool(meta.get("deletionTimestamp")),
    )


def cninode_features(cninode: dict | None) -> tuple[str, ...]:
    if not cninode:
        return ()
    return tuple(f.get("name", "") for f in (cninode.get("spec") or {}).get("features") or [])


def node_facts(node: dict, features: tuple[str, ...] = ()) -> NodeFacts:
    meta = node.get("metadata", {})
    labels = dict(meta.get("labels") or {})
    instance_type = (labels.get("node.kubernetes.io/instance-type")
                     or labels.get("beta.kubernetes.io/instance-type") or "")
    status = node.get("status") or {}
    return NodeFacts(
        name=meta.get("name", ""), labels=labels,
        provider_id=(node.get("spec") or {}).get("providerID") or "",
        instance_type=instance_type, cninode_features=tuple(features),
        capacity=status.get("capacity"),
    )


def has_sgp_feature(features: tuple[str, ...]) -> bool:
    return SGP_FEATURE in features
