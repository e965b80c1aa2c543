"""What-if preview: which known pods a policy spec selects, and what a change would do.

Read-only, and a fixed number of queries whatever the number of pods (pods, service
accounts, and for a diff the namespace's policies), so it can run on every keystroke of
the policy editor. Decisions come from :mod:`apps.policies.matching`.

The answer is about selection *now*: upstream evaluates policies when a pod is admitted
and when its branch ENI is created, never afterwards, so a running pod keeps its groups
until it is recreated (or re-attached, where that is enabled). Pods on the host network
are left out: they never get a branch ENI.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from apps.inventory.models import Cluster, Pod, ServiceAccount

from .matching import PolicyView, policy_selects, security_groups_for_pod
from .models import Policy


def preview_matches(cluster: Cluster, namespace: str, spec: Mapping[str, Any]) -> list[dict]:
    """The known, live pods of ``cluster``/``namespace`` that ``spec`` selects, in name
    order, each with its node and why it is selected."""
    pods, sa_labels = _pods_and_service_account_labels(cluster, namespace)
    result = []
    for pod in pods:
        selected, reason = policy_selects(spec, pod.labels, sa_labels.get(pod.service_account_name))
        if selected:
            result.append({**_describe(pod), "reason": reason})
    return result


def preview_diff(policy: Policy, new_spec: Mapping[str, Any]) -> dict[str, list[dict]]:
    """What replacing ``policy``'s saved spec with ``new_spec`` would change.

    Returns ``added`` (pods the new spec selects and the saved one does not), ``removed``
    (the reverse) and ``regrouped`` (pods selected by both whose groups still change).
    Each pod carries ``groups_before`` and ``groups_after`` (the union over every policy of
    the namespace, as matching computes it) and the ``gains`` and ``loses`` between them.
    An unsaved policy counts as selecting nothing before.
    """
    pods, sa_labels = _pods_and_service_account_labels(policy.cluster, policy.namespace)
    others = [
        p.as_view()
        for p in Policy.objects.filter(cluster=policy.cluster, namespace=policy.namespace)
        .exclude(pk=policy.pk)
        .only("name", "spec")
    ]
    saved = [PolicyView(policy.name, policy.spec)] if policy.pk is not None else []
    proposed = [PolicyView(policy.name, new_spec)]
    changes: dict[str, list[dict]] = {"added": [], "removed": [], "regrouped": []}
    for pod in pods:
        labels = sa_labels.get(pod.service_account_name)
        was = any(policy_selects(view.spec, pod.labels, labels)[0] for view in saved)
        will_be = policy_selects(new_spec, pod.labels, labels)[0]
        before = security_groups_for_pod(others + saved, pod.labels, labels).group_ids
        after = security_groups_for_pod(others + proposed, pod.labels, labels).group_ids
        if was == will_be and before == after:
            continue
        kind = "regrouped" if was == will_be else ("added" if will_be else "removed")
        changes[kind].append(
            {
                **_describe(pod),
                "groups_before": list(before),
                "groups_after": list(after),
                "gains": [g for g in after if g not in before],
                "loses": [g for g in before if g not in after],
            }
        )
    return changes


def _pods_and_service_account_labels(
    cluster: Cluster, namespace: str
) -> tuple[list[Pod], dict[str, dict[str, str]]]:
    pods = list(
        Pod.objects.filter(
            cluster=cluster, namespace=namespace, deleted_at__isnull=True, host_network=False
        ).order_by("name")
    )
    sa_labels = dict(
        ServiceAccount.objects.filter(cluster=cluster, namespace=namespace).values_list(
            "name", "labels"
        )
    )
    return pods, sa_labels


def _describe(pod: Pod) -> dict[str, Any]:
    return {
        "namespace": pod.namespace,
        "name": pod.name,
        "uid": pod.uid,
        "node": pod.node_name,
        "phase": pod.phase,
        "service_account": pod.service_account_name,
    }
