"""Plain data the core decides over, and the events it asks the shell to emit."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class EventType(StrEnum):
    NORMAL = "Normal"
    WARNING = "Warning"


@dataclass(frozen=True)
class Event:
    """A Kubernetes event the shell emits on the pod or the node the plan is about."""

    type: EventType
    reason: str
    message: str


@dataclass(frozen=True)
class InstanceLimit:
    """One row of the instance limits table (reference §3.5)."""

    instance_type: str
    max_enis: int
    ipv4_per_eni: int
    trunking: bool
    branch_enis: int
    default_card_max_enis: int
    hypervisor: str = ""
    bare_metal: bool = False

    @property
    def device_slots(self) -> int:
        """How many device indexes the default network card offers (§3.2)."""
        return min(self.max_enis, self.default_card_max_enis)


@dataclass(frozen=True)
class NodeFacts:
    """What the cluster says about a node."""

    name: str
    labels: dict[str, str] = field(default_factory=dict)
    provider_id: str = ""
    instance_type: str = ""
    cninode_features: tuple[str, ...] = ()
    capacity: dict[str, str] | None = None  # status.capacity; None when the map is absent


@dataclass(frozen=True)
class InstanceInterface:
    """One ENI attached to the instance, as DescribeInstances reports it."""

    eni_id: str
    device_index: int
    interface_type: str | None  # None while the instance is terminating
    attachment_status: str = "attached"
    private_ip: str = ""
    security_group_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class PodFacts:
    """What the controller needs of a pod (the "stripped pod" of reference §4.1)."""

    namespace: str
    name: str
    uid: str
    node_name: str = ""
    phase: str = "Pending"
    labels: dict[str, str] = field(default_factory=dict)
    service_account_name: str = "default"
    requested_enis: int = 0  # sum of vpc.amazonaws.com/pod-eni requests over containers
    annotated: bool = False  # carries vpc.amazonaws.com/pod-eni
    deleting: bool = False  # deletionTimestamp set


@dataclass(frozen=True)
class BranchSlot:
    """A branch ENI (or a reservation of its VLAN) that occupies capacity on a trunk."""

    vlan_id: int
    pod_uid: str
    state: str  # a BranchENIState value
