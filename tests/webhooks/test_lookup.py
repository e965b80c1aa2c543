"""Group lookup from a cluster snapshot, with the fix for upstream #658: a missing
service account denies only when a policy that could select the pod needs its labels."""

from __future__ import annotations

from apps.policies.matching import PolicyView
from apps.webhooks.lookup import ClusterSnapshot

from .factories import POD_LABELS, SA_LABELS, SELECTOR


def policy(name, pod_selector=None, sa_selector=None, groups=("sg-1",)):
    spec = {"securityGroups": {"groupIds": list(groups)}}
    if pod_selector is not None:
        spec["podSelector"] = pod_selector
    if sa_selector is not None:
        spec["serviceAccountSelector"] = sa_selector
    return PolicyView(name=name, spec=spec)


def snapshot(policies, accounts=None, namespace="default"):
    return ClusterSnapshot(
        cluster="c",
        policies={namespace: tuple(policies)},
        service_accounts=accounts if accounts is not None else {(namespace, "api"): SA_LABELS},
    )


def test_a_namespace_without_policies_never_needs_the_service_account():
    lookup = snapshot([policy("p", pod_selector={})]).match("other", POD_LABELS, "missing")
    assert lookup.error is None and lookup.group_ids == ()


def test_pod_selector_policies_do_not_need_the_service_account():
    lookup = snapshot([policy("p", pod_selector=SELECTOR, groups=["sg-a"])]).match(
        "default", POD_LABELS, "missing"
    )
    assert lookup.error is None and lookup.group_ids == ("sg-a",)


def test_a_missing_service_account_needed_by_a_policy_is_an_error_naming_both():
    snap = snapshot([policy("by-pod", pod_selector={}), policy("by-sa", sa_selector=SELECTOR)])
    lookup = snap.match("default", POD_LABELS, "missing")
    assert lookup.group_ids == ()
    assert lookup.error == (
        'serviceaccount "missing" not found in namespace "default"; '
        'SecurityGroupPolicy "by-sa" selects pods by serviceAccountSelector'
    )


def test_every_needing_policy_is_named():
    snap = snapshot([policy("a", sa_selector={}), policy("b", sa_selector=SELECTOR)])
    error = snap.match("default", POD_LABELS, "missing").error
    assert 'SecurityGroupPolicies "a", "b" select' in error


def test_a_service_account_policy_whose_pod_selector_fails_does_not_need_it():
    snap = snapshot([policy("p", pod_selector={"matchLabels": {"role": "web"}}, sa_selector={})])
    lookup = snap.match("default", POD_LABELS, "missing")
    assert lookup.error is None and lookup.group_ids == ()


def test_a_service_account_policy_without_groups_does_not_need_it():
    snap = snapshot([policy("p", sa_selector={}, groups=())])
    assert snap.match("default", POD_LABELS, "missing").error is None


def test_a_known_service_account_is_matched_by_its_labels():
    snap = snapshot(
        [
            policy("a", sa_selector=SELECTOR, groups=["sg-1", "sg-2"]),
            policy("b", pod_selector={}, groups=["sg-2", "sg-3"]),
        ]
    )
    assert snap.match("default", POD_LABELS, "api").group_ids == ("sg-1", "sg-2", "sg-3")
    mismatched = snapshot(
        [policy("a", sa_selector=SELECTOR)],
        {("default", "api"): {**SA_LABELS, "environment": "dev"}},
    )
    assert mismatched.match("default", POD_LABELS, "api").group_ids == ()


def test_remembered_answers_are_per_labels_and_service_account():
    snap = snapshot(
        [
            policy("a", sa_selector=SELECTOR, groups=["sg-sa"]),
            policy("b", pod_selector=SELECTOR, groups=["sg-pod"]),
        ],
        {("default", "api"): SA_LABELS, ("default", "other"): {}},
    )
    for _ in range(2):
        assert snap.match("default", POD_LABELS, "api").group_ids == ("sg-sa", "sg-pod")
        assert snap.match("default", POD_LABELS, "other").group_ids == ("sg-pod",)
        assert snap.match("default", {**POD_LABELS, "role": "web"}, "api").group_ids == ("sg-sa",)
        assert snap.match("default", POD_LABELS, "missing").error is not None
