"""Which security groups a pod's branch ENI gets, and the event that says so (§4.2 step 3)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from apps.policies.matching import PolicyView, security_groups_for_pod

from .model import Event, EventType

NO_MATCH_MESSAGE = (
    "Pod will get the instance security group as the pod didn't match any Security Group "
    "from SecurityGroupPolicy"
)


@dataclass(frozen=True)
class GroupSelection:
    group_ids: tuple[str, ...]
    matched_policies: tuple[str, ...]
    from_node: bool  # nothing matched: the node's own groups are used
    event: Event


def select_groups(
    policies: Iterable[PolicyView],
    pod_labels: Mapping[str, str],
    sa_labels: Mapping[str, str] | None,
    node_group_ids: Sequence[str],
) -> GroupSelection:
    """Union of the matching policies' groups; the node's groups (and a Warning) if none."""
    result = security_groups_for_pod(policies, pod_labels, sa_labels)
    if result.group_ids:
        message = "Pod will get the following Security Groups [" + " ".join(result.group_ids) + "]"
        return GroupSelection(
            tuple(result.group_ids), tuple(result.matched), False,
            Event(EventType.NORMAL, "SecurityGroupRequested", message),
        )
    return GroupSelection(
        tuple(dict.fromkeys(node_group_ids)), (), True,
        Event(EventType.WARNING, "SecurityGroupRequested", NO_MATCH_MESSAGE),
    )
