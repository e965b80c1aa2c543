"""Why a pod has the security groups it has: each policy of its namespace, whether it
selects the pod and why, and for each group the policies it comes from."""

from __future__ import annotations

from dataclasses import dataclass, field

from apps.inventory.models import ServiceAccount

from .matching import security_groups_for_pod
from .models import Policy


@dataclass
class PolicyVerdict:
    policy: Policy
    selected: bool
    reason: str


@dataclass
class PodExplanation:
    group_ids: list[str]
    verdicts: list[PolicyVerdict]
    sources: dict[str, list[str]] = field(default_factory=dict)  # group id -> policy names
    service_account_known: bool = True

    def policies_for(self, group_id: str) -> list[str]:
        return self.sources.get(group_id, [])


def explain_pod(pod, policies=None) -> PodExplanation:
    """Run the matching the webhook and controller run, keeping every policy's reason.

    ``policies``: the policies of the pod's namespace (defaults to all of them).
    """
    if policies is None:
        policies = Policy.objects.filter(cluster_id=pod.cluster_id, namespace=pod.namespace)
    policies = list(policies)
    account = ServiceAccount.objects.filter(
        cluster_id=pod.cluster_id, namespace=pod.namespace, name=pod.service_account_name
    ).first()
    sa_labels = account.labels if account is not None else None
    result = security_groups_for_pod([p.as_view() for p in policies], pod.labels or {}, sa_labels)
    verdicts = [
        PolicyVerdict(p, p.name in result.matched, result.reasons.get(p.name, "")) for p in policies
    ]
    sources: dict[str, list[str]] = {}
    for verdict in verdicts:
        if verdict.selected:
            for group in verdict.policy.group_ids:
                sources.setdefault(group, []).append(verdict.policy.name)
    return PodExplanation(list(result.group_ids), verdicts, sources, account is not None)
