"""What to do with a pod (reference §4.1 and §4.2), in two pure steps.

1. :func:`triage_pod` looks at the pod and its node: ignore, requeue, release or attach.
2. :func:`plan_reservation` looks at the trunk's branches: resume this pod's earlier attempt,
   reserve the lowest free VLAN id, or wait out a cooldown because the trunk is full.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .capacity import HOLDING_STATES, has_capacity, occupancy
from .constants import NODE_NOT_READY_REQUEUE_SECONDS
from .model import BranchSlot, PodFacts
from .vlan import lowest_free_vlan, vlan_ceiling

TERMINAL_PHASES = frozenset({"Succeeded", "Failed"})


@dataclass(frozen=True)
class NodeStatus:
    """The controller's view of the pod's node."""

    exists: bool
    managed: bool
    trunk_ready: bool
    branch_limit: int = 0


@dataclass(frozen=True)
class Ignore:
    reason: str


@dataclass(frozen=True)
class Requeue:
    after_seconds: float
    reason: str


@dataclass(frozen=True)
class Release:
    """The pod's branches go to cooldown (issue 4 executes this)."""

    reason: str


@dataclass(frozen=True)
class Attach:
    count: int


def triage_pod(pod: PodFacts, node: NodeStatus | None) -> Ignore | Requeue | Release | Attach:
    """Upstream's pod reconcile (§4.1) for an add or update event."""
    if not pod.node_name:
        return Ignore("not scheduled")
    if pod.deleting or pod.phase in TERMINAL_PHASES:
        return Release(f"pod is {'being deleted' if pod.deleting else pod.phase}")
    if node is None or not node.exists:
        return Release("its node is gone")
    if pod.requested_enis <= 0:
        return Ignore("does not request vpc.amazonaws.com/pod-eni")
    if pod.annotated:
        return Ignore("already annotated")
    if not node.managed:
        return Requeue(NODE_NOT_READY_REQUEUE_SECONDS, "its node is not managed (yet)")
    if not node.trunk_ready:
        return Requeue(NODE_NOT_READY_REQUEUE_SECONDS, "its node's trunk is not ready")
    return Attach(pod.requested_enis)


@dataclass(frozen=True)
class Resume:
    """This pod already holds a VLAN on the trunk from an earlier (maybe crashed) attempt."""

    vlan_id: int
    state: str


@dataclass(frozen=True)
class Reserve:
    vlan_id: int


@dataclass(frozen=True)
class AtCapacity:
    """No event and no error: requeue after the cooldown (upstream's ErrCurrentlyAtMaxCapacity)."""

    after_seconds: float
    in_use: int
    cooling: int


def plan_reservation(
    pod_uid: str, slots: Iterable[BranchSlot], branch_limit: int, cooldown_seconds: float
) -> Resume | Reserve | AtCapacity:
    """Resume the pod's live branch, else check capacity and take the lowest free VLAN id."""
    slots = list(slots)
    for slot in slots:
        if slot.pod_uid == pod_uid and slot.state in ("creating", "attached"):
            return Resume(slot.vlan_id, slot.state)
    in_use, cooling = occupancy(slots)
    if not has_capacity(in_use, cooling, branch_limit):
        return AtCapacity(cooldown_seconds, in_use, cooling)
    held = [s.vlan_id for s in slots if s.state in HOLDING_STATES]
    vlan_id = lowest_free_vlan(held, vlan_ceiling(branch_limit))
    if vlan_id is None:  # more VLANs held than branches counted: only after manual meddling
        return AtCapacity(cooldown_seconds, in_use, cooling)
    return Reserve(vlan_id)
