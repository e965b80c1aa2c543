"""Which SecurityGroupPolicies select a pod, and so which security groups it gets.

Pure functions over plain data; the webhook, the controller and the what-if preview all
call :func:`security_groups_for_pod`. Semantics are upstream's (reference §1.2):

- only policies in the pod's namespace count (the caller passes those);
- a policy with neither selector, or with no group ids, is ignored;
- a present selector must match; both present means both must match; ``{}`` matches all;
- the service-account selector matches the ServiceAccount object's labels;
- several matching policies give the union of their groups, first-seen order, no duplicates.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .selectors import selector_matches


@dataclass(frozen=True)
class PolicyView:
    """The parts of a policy that matching reads."""

    name: str
    spec: Mapping[str, Any]


@dataclass(frozen=True)
class MatchResult:
    group_ids: tuple[str, ...] = ()
    matched: tuple[str, ...] = ()  # names of the policies that contributed
    reasons: dict[str, str] = field(default_factory=dict)  # policy name -> why not / why


def group_ids_of(spec: Any) -> list[str]:
    """The group ids a spec lists, in order; [] for anything malformed.

    Policies found in a cluster are stored as they are, so this never trusts the shape.
    """
    groups = spec.get("securityGroups") if isinstance(spec, Mapping) else None
    ids = groups.get("groupIds") if isinstance(groups, Mapping) else None
    if not isinstance(ids, list):
        return []
    return [g for g in ids if isinstance(g, str) and g]


def policy_selects(
    spec: Mapping[str, Any], pod_labels: Mapping[str, str], sa_labels: Mapping[str, str] | None
) -> tuple[bool, str]:
    """Does one policy select the pod? Returns (selected, reason in words).

    ``sa_labels`` None means the pod's service account is unknown: a service-account
    selector then does not match.
    """
    if not isinstance(spec, Mapping):
        return False, "ignored: the spec is not an object"
    pod_selector = spec.get("podSelector")
    sa_selector = spec.get("serviceAccountSelector")
    if pod_selector is None and sa_selector is None:
        return False, "ignored: the policy has neither podSelector nor serviceAccountSelector"
    if not group_ids_of(spec):
        return False, "ignored: the policy lists no security group ids"
    if pod_selector is not None and not selector_matches(pod_selector, pod_labels):
        return False, "podSelector does not match the pod's labels"
    if sa_selector is not None:
        if sa_labels is None:
            return False, "serviceAccountSelector: the pod's service account is unknown"
        if not selector_matches(sa_selector, sa_labels):
            return False, "serviceAccountSelector does not match the service account's labels"
    present = [
        name
        for name, selector in (
            ("podSelector", pod_selector),
            ("serviceAccountSelector", sa_selector),
        )
        if selector is not None
    ]
    return True, " and ".join(present) + (" matches" if len(present) == 1 else " match")


def security_groups_for_pod(
    policies: Iterable[PolicyView],
    pod_labels: Mapping[str, str],
    sa_labels: Mapping[str, str] | None,
) -> MatchResult:
    """The union of the groups of every policy that selects the pod."""
    groups: dict[str, None] = {}  # an insertion-ordered set: first-seen order, no duplicates
    matched: list[str] = []
    reasons: dict[str, str] = {}
    for policy in policies:
        selected, reason = policy_selects(policy.spec, pod_labels, sa_labels)
        reasons[policy.name] = reason
        if not selected:
            continue
        matched.append(policy.name)
        groups.update(dict.fromkeys(group_ids_of(policy.spec)))
    return MatchResult(group_ids=tuple(groups), matched=tuple(matched), reasons=reasons)


def remove_duplicate_groups(group_ids: Iterable[str]) -> list[str]:
    """``group_ids`` without repeats, keeping each id's first occurrence (upstream's
    ``RemoveDuplicatedSg``)."""
    return list(dict.fromkeys(group_ids))


def needs_service_account(policies: Iterable[PolicyView]) -> list[str]:
    """Names of the policies whose decision depends on the service account's labels."""
    return [
        p.name
        for p in policies
        if isinstance(p.spec, Mapping) and p.spec.get("serviceAccountSelector") is not None
    ]
