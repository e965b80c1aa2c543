"""Is a node managed, and what must happen to it (reference §3.1 to §3.4)?"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .capacity import capacity_patch
from .constants import AUTO_MODE_LABEL, CONTROLLER_VERSION, OS_LABELS, SGP_FEATURE, TRUNK_LABEL
from .model import Event, EventType, InstanceLimit, NodeFacts


def instance_id_of(provider_id: str) -> str:
    """``aws:///us-west-2c/i-0123`` -> ``i-0123``; "" when absent."""
    return provider_id.rstrip("/").rsplit("/", 1)[-1] if provider_id else ""


def os_of(labels: Mapping[str, str]) -> str:
    for key in OS_LABELS:
        if labels.get(key):
            return labels[key]
    return ""


def asks_for_trunk(node: NodeFacts) -> bool:
    """The legacy label (any value) or the CNINode feature asks for security groups for pods."""
    return TRUNK_LABEL in node.labels or SGP_FEATURE in node.cninode_features


def unsupported_type_event(instance_type: str) -> Event:
    return Event(EventType.WARNING, "Unsupported",
                 f"The instance type {instance_type} is not supported yet by the vpc resource "
                 "controller")


def unsupported_trunk_event(instance_type: str) -> Event:
    return Event(EventType.WARNING, "Unsupported",
                 f"The instance type {instance_type} is not supported for trunk interface "
                 "(Security Group for Pods)")


@dataclass(frozen=True)
class NodeDecision:
    """Whether the node is managed, why, and which events tell the user."""

    managed: bool
    reason: str
    instance_id: str = ""
    branch_limit: int = 0
    events: tuple[Event, ...] = ()


def decide_node(node: NodeFacts, limit: InstanceLimit | None) -> NodeDecision:
    """The managed-node rule: asked for, Linux, instance id known, trunk-capable type."""
    if node.labels.get(AUTO_MODE_LABEL) == "auto":
        return NodeDecision(False, "EKS Auto Mode node: not ours")
    instance_id = instance_id_of(node.provider_id)
    os_name = os_of(node.labels)
    if not instance_id or not os_name:
        return NodeDecision(False, "no instance id or OS label yet")
    if not asks_for_trunk(node):
        return NodeDecision(False, "neither the trunk label nor the CNINode feature is set",
                            instance_id)
    if limit is None:
        return NodeDecision(False, f"instance type {node.instance_type or '?'} is unknown",
                            instance_id, events=(unsupported_type_event(node.instance_type),))
    if os_name != "linux" or not limit.trunking or limit.branch_enis <= 0:
        return NodeDecision(False, f"{os_name} {limit.instance_type} does not support trunking",
                            instance_id, events=(unsupported_trunk_event(limit.instance_type),))
    return NodeDecision(True, "managed", instance_id, limit.branch_enis)


def version_notice() -> Event:
    return Event(EventType.NORMAL, "ControllerVersionNotice",
                 f"The node is managed by VPC resource controller version {CONTROLLER_VERSION}")


TRUNK_INITIATED = Event(EventType.NORMAL, "NodeTrunkInitiated",
                        "The node has trunk interface initialized successfully")
TRUNK_FAILED_INIT = Event(EventType.NORMAL, "NodeTrunkFailedInit",
                          "The node failed initializing trunk interface")


def trunk_creation_failed(error_code: str) -> Event:
    """Only for AWS API errors; the IAM hint for ``UnauthorizedOperation`` as upstream."""
    message = f"Failed to create trunk interface: Error Code: {error_code}"
    if error_code == "UnauthorizedOperation":
        message += ": Please verify the cluster IAM role has AmazonEKSVPCResourceController policy"
    return Event(EventType.WARNING, "TrunkENICreationFailed", message)


def node_capacity_patch(node: NodeFacts, decision: NodeDecision) -> dict | None:
    """Capacity is only advertised (never removed) for managed nodes, and only when different."""
    if not decision.managed:
        return None
    return capacity_patch(node.capacity, decision.branch_limit)
