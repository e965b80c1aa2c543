"""Which security groups a pod gets, from a snapshot of one cluster's policies and
service-account labels. Pure.

Upstream fetches the pod's ServiceAccount before looking at any policy and denies the
pod when it is missing, even in a namespace without policies (upstream issue #658).
We deny only when the answer depends on it: when a policy in the pod's namespace
that could otherwise select the pod has a ``serviceAccountSelector``. The message
names the missing service account and those policies.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from apps.policies.matching import (
    PolicyView,
    group_ids_of,
    needs_service_account,
    security_groups_for_pod,
)
from apps.policies.selectors import selector_matches

from .mutation import Lookup

MEMO_LIMIT = 10_000


@dataclass(frozen=True)
class ClusterSnapshot:
    """One cluster's policies by namespace and service-account labels by (namespace, name)."""

    cluster: str
    policies: Mapping[str, tuple[PolicyView, ...]] = field(default_factory=dict)
    service_accounts: Mapping[tuple[str, str], Mapping[str, str]] = field(default_factory=dict)

    _memo: dict = field(default_factory=dict, compare=False, repr=False)

    def match(self, namespace: str, pod_labels: Mapping[str, str], service_account: str) -> Lookup:
        """The pod's groups; remembered per (namespace, labels, service account), since the
        pods of one ReplicaSet share them and the snapshot never changes."""
        key = (namespace, tuple(sorted(pod_labels.items())), service_account)
        found = self._memo.get(key)
        if found is None:
            found = groups_for_pod(
                self.policies.get(namespace, ()),
                namespace,
                pod_labels,
                service_account,
                self.service_accounts.get((namespace, service_account)),
            )
            if len(self._memo) >= MEMO_LIMIT:
                self._memo.clear()
            self._memo[key] = found
        return found


def groups_for_pod(
    policies: Sequence[PolicyView],
    namespace: str,
    pod_labels: Mapping[str, str],
    service_account: str,
    sa_labels: Mapping[str, str] | None,
) -> Lookup:
    """The pod's groups from the policies of its namespace; an error only when a
    policy needs the labels of a service account that does not exist."""
    if not policies:
        return Lookup()
    if sa_labels is None:
        deciding = set(_depending_on_service_account(policies, pod_labels))
        needing = [name for name in needs_service_account(policies) if name in deciding]
        if needing:
            names = ", ".join(f'"{name}"' for name in needing)
            one = len(needing) == 1
            noun, verb = (
                ("SecurityGroupPolicy", "selects") if one else ("SecurityGroupPolicies", "select")
            )
            return Lookup(
                error=(
                    f'serviceaccount "{service_account}" not found in namespace "{namespace}"; '
                    f"{noun} {names} {verb} pods by serviceAccountSelector"
                )
            )
    result = security_groups_for_pod(policies, pod_labels, sa_labels)
    return Lookup(group_ids=result.group_ids)


def _depending_on_service_account(
    policies: Sequence[PolicyView], pod_labels: Mapping[str, str]
) -> list[str]:
    """Policies that would select the pod or not depending on its service account:
    a service-account selector, some groups, and no pod selector that already fails."""
    names = []
    for policy in policies:
        spec = policy.spec
        if spec.get("serviceAccountSelector") is None or not group_ids_of(spec):
            continue
        pod_selector = spec.get("podSelector")
        if pod_selector is None or selector_matches(pod_selector, pod_labels):
            names.append(policy.name)
    return names
