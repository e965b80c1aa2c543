"""Which policies select a pod and which groups it gets (apps/policies/matching.py).

Covers reference §1.2 (the algorithm, its truth table and the upstream fixtures) and the
matching part of §6.1 (pkg/utils/helper_test.go).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apps.policies.matching import (
    PolicyView,
    group_ids_of,
    needs_service_account,
    policy_selects,
    remove_duplicate_groups,
    security_groups_for_pod,
)

from .spec_strategies import labels, matchable_specs, pooled_group_ids, selectors

# Upstream fixtures (pkg/utils/setup_test.go).
POD_LABELS = {"role": "db", "environment": "qa", "app": "test_app"}
SA_LABELS = {"role": "db", "environment": "qa"}
MISMATCHED_SA_LABELS = {"role": "db", "environment": "dev"}
FIXTURE_SELECTOR = {
    "matchLabels": {"role": "db"},
    "matchExpressions": [{"key": "environment", "operator": "In", "values": ["qa", "production"]}],
}
GROUPS = ["sg-00000001", "sg-00000002"]
NOT_MATCHING = {"matchLabels": {"role": "web"}}


def spec(pod=None, sa=None, groups=GROUPS) -> dict:
    result: dict = {"securityGroups": {"groupIds": list(groups)}}
    if pod is not None:
        result["podSelector"] = pod
    if sa is not None:
        result["serviceAccountSelector"] = sa
    return result


def groups_for(specs, pod_labels=POD_LABELS, sa_labels=SA_LABELS) -> list[str]:
    policies = [PolicyView(name=f"p{i}", spec=s) for i, s in enumerate(specs)]
    return list(security_groups_for_pod(policies, pod_labels, sa_labels).group_ids)


# --- the truth table of reference §1.2, one row per case ---------------------------------

ALWAYS = {}  # a selector that matches, written so the row reads like the table


@pytest.mark.parametrize(
    ("pod_selector", "sa_selector", "pod_labels", "sa_labels", "contributes"),
    [
        # absent / absent: invalid, whatever the labels
        (None, None, POD_LABELS, SA_LABELS, False),
        (None, None, {}, {}, False),
        # set / absent, pod labels match, SA labels anything
        (FIXTURE_SELECTOR, None, POD_LABELS, SA_LABELS, True),
        (FIXTURE_SELECTOR, None, POD_LABELS, MISMATCHED_SA_LABELS, True),
        (FIXTURE_SELECTOR, None, POD_LABELS, None, True),
        # set / absent, pod labels do not match
        (FIXTURE_SELECTOR, None, {"role": "db", "environment": "dev"}, SA_LABELS, False),
        # absent / set, SA labels match, pod labels anything
        (None, FIXTURE_SELECTOR, POD_LABELS, SA_LABELS, True),
        (None, FIXTURE_SELECTOR, {}, SA_LABELS, True),
        # absent / set, SA labels do not match
        (None, FIXTURE_SELECTOR, POD_LABELS, MISMATCHED_SA_LABELS, False),
        # set / set, both match
        (FIXTURE_SELECTOR, FIXTURE_SELECTOR, POD_LABELS, SA_LABELS, True),
        # set / set, pod matches, SA does not
        (FIXTURE_SELECTOR, FIXTURE_SELECTOR, POD_LABELS, MISMATCHED_SA_LABELS, False),
        # set / set, SA matches, pod does not
        (FIXTURE_SELECTOR, FIXTURE_SELECTOR, {"role": "web"}, SA_LABELS, False),
        # {} / absent: every pod in the namespace
        (ALWAYS, None, POD_LABELS, SA_LABELS, True),
        (ALWAYS, None, {}, None, True),
        # absent / {}: every pod in the namespace (whose service account is known)
        (None, ALWAYS, POD_LABELS, SA_LABELS, True),
        (None, ALWAYS, {}, {}, True),
    ],
)
def test_truth_table(pod_selector, sa_selector, pod_labels, sa_labels, contributes):
    selected, reason = policy_selects(spec(pod_selector, sa_selector), pod_labels, sa_labels)
    assert selected is contributes, reason
    assert groups_for([spec(pod_selector, sa_selector)], pod_labels, sa_labels) == (
        GROUPS if contributes else []
    )


# --- the upstream checklist, §6.1 ----------------------------------------------------------


def test_remove_duplicated_sg_keeps_every_unique_id_once_in_first_seen_order():
    assert remove_duplicate_groups(["sg-3", "sg-1", "sg-3", "sg-2", "sg-1"]) == [
        "sg-3",
        "sg-1",
        "sg-2",
    ]
    assert remove_duplicate_groups([]) == []


def test_combined_selectors_both_matching_give_all_groups():
    assert groups_for([spec(FIXTURE_SELECTOR, FIXTURE_SELECTOR)]) == GROUPS


def test_pod_selector_alone():
    assert groups_for([spec(pod=FIXTURE_SELECTOR)]) == GROUPS


def test_service_account_selector_alone():
    assert groups_for([spec(sa=FIXTURE_SELECTOR)]) == GROUPS


def test_two_policies_one_by_service_account_one_by_pod_give_the_union():
    by_sa = spec(sa=FIXTURE_SELECTOR, groups=["sg-0000000a", "sg-0000000b"])
    by_pod = spec(pod=FIXTURE_SELECTOR, groups=["sg-0000000b", "sg-0000000c"])
    assert groups_for([by_sa, by_pod]) == ["sg-0000000a", "sg-0000000b", "sg-0000000c"]
    assert groups_for([by_pod, by_sa]) == ["sg-0000000b", "sg-0000000c", "sg-0000000a"]


def test_empty_pod_selector_matches_every_pod():
    for pod_labels in (POD_LABELS, {}, {"anything": "else"}):
        assert groups_for([spec(pod={})], pod_labels) == GROUPS


def test_empty_service_account_selector_matches_every_service_account():
    for sa_labels in (SA_LABELS, {}, MISMATCHED_SA_LABELS):
        assert groups_for([spec(sa={})], sa_labels=sa_labels) == GROUPS


@pytest.mark.parametrize("where", ["pod", "sa"])
@pytest.mark.parametrize(
    "selector",
    [
        {"matchLabels": {"role": "db", "environment": "qa"}},
        {
            "matchExpressions": [
                {"key": "environment", "operator": "In", "values": ["qa", "production"]}
            ]
        },
    ],
    ids=["matchLabels", "matchExpressions"],
)
def test_each_selector_form_on_its_own(where, selector):
    matching = spec(**{where: selector})
    assert groups_for([matching]) == GROUPS
    if where == "pod":
        assert groups_for([matching], pod_labels={"role": "db", "environment": "dev"}) == []
    else:
        assert groups_for([matching], sa_labels=MISMATCHED_SA_LABELS) == []


def test_mismatched_service_account_label_gives_no_groups():
    assert groups_for([spec(sa=FIXTURE_SELECTOR)], sa_labels=MISMATCHED_SA_LABELS) == []
    assert (
        groups_for([spec(FIXTURE_SELECTOR, FIXTURE_SELECTOR)], sa_labels=MISMATCHED_SA_LABELS) == []
    )


@pytest.mark.parametrize(
    "security_groups", [{"groupIds": []}, {}, None, {"groupIds": None}, {"groupIds": [""]}]
)
def test_policy_without_groups_is_ignored(security_groups):
    empty = {"podSelector": {}, "securityGroups": security_groups}
    selected, reason = policy_selects(empty, POD_LABELS, SA_LABELS)
    assert not selected
    assert "no security group ids" in reason
    assert groups_for([empty, spec(pod={}, groups=["sg-0000000f"])]) == ["sg-0000000f"]


def test_unknown_service_account_matches_only_policies_without_a_service_account_selector():
    # Upstream's Get error (TestShouldAddENILimits) is the webhook's business; the pure
    # core reports "unknown" as no SA labels, and says which policies needed them.
    policies = [
        PolicyView("by-pod", spec(pod=FIXTURE_SELECTOR, groups=["sg-0000000a"])),
        PolicyView("by-sa", spec(sa={}, groups=["sg-0000000b"])),
    ]
    result = security_groups_for_pod(policies, POD_LABELS, None)
    assert result.group_ids == ("sg-0000000a",)
    assert result.matched == ("by-pod",)
    assert "service account is unknown" in result.reasons["by-sa"]
    assert needs_service_account(policies) == ["by-sa"]


def test_service_account_selector_reads_the_service_account_labels_not_the_pod_labels():
    # The pod carries the labels; its service account does not.
    selector = {"matchLabels": {"app": "test_app"}}
    assert groups_for([spec(sa=selector)], POD_LABELS, SA_LABELS) == []
    assert groups_for([spec(pod=selector)], POD_LABELS, SA_LABELS) == GROUPS


def test_result_explains_each_policy():
    policies = [
        PolicyView("none", {"securityGroups": {"groupIds": GROUPS}}),
        PolicyView("pod-miss", spec(pod=NOT_MATCHING)),
        PolicyView("sa-miss", spec(sa=NOT_MATCHING)),
        PolicyView("hit", spec(pod={}, sa={})),
    ]
    result = security_groups_for_pod(policies, POD_LABELS, SA_LABELS)
    assert result.matched == ("hit",)
    assert "neither podSelector nor serviceAccountSelector" in result.reasons["none"]
    assert result.reasons["pod-miss"] == "podSelector does not match the pod's labels"
    assert "service account's labels" in result.reasons["sa-miss"]
    assert result.reasons["hit"] == "podSelector and serviceAccountSelector match"


@pytest.mark.parametrize(
    "malformed",
    [
        "not a spec",
        None,
        {"podSelector": {}, "securityGroups": ["sg-00000001"]},
        {"podSelector": {}, "securityGroups": {"groupIds": "sg-00000001"}},
        {"podSelector": "everything", "securityGroups": {"groupIds": GROUPS}},
    ],
)
def test_malformed_specs_from_a_cluster_are_ignored_not_crashed_on(malformed):
    assert groups_for([malformed, spec(pod={}, groups=["sg-0000000f"])]) == ["sg-0000000f"]


def test_group_ids_of_keeps_order_and_drops_non_strings():
    assert group_ids_of({"securityGroups": {"groupIds": ["sg-2", 7, "sg-1"]}}) == ["sg-2", "sg-1"]


# --- properties ------------------------------------------------------------------------------

policy_lists = st.lists(matchable_specs(), max_size=6)
sa_label_sets = st.one_of(st.none(), labels)


def _selected_specs(specs, pod_labels, sa_labels):
    return [s for s in specs if policy_selects(s, pod_labels, sa_labels)[0]]


@given(policy_lists, labels, sa_label_sets)
def test_property_groups_are_the_deduplicated_concatenation_of_selected_policies(
    specs, pod_labels, sa_labels
):
    expected: list[str] = []
    for selected in _selected_specs(specs, pod_labels, sa_labels):
        for group in selected["securityGroups"]["groupIds"]:
            if group not in expected:
                expected.append(group)
    result = groups_for(specs, pod_labels, sa_labels)
    assert result == expected
    assert len(result) == len(set(result))


@given(policy_lists, policy_lists, labels, sa_label_sets)
def test_property_union_of_two_lists_of_policies(first, second, pod_labels, sa_labels):
    together = groups_for(first + second, pod_labels, sa_labels)
    apart = groups_for(first, pod_labels, sa_labels) + groups_for(second, pod_labels, sa_labels)
    assert together == remove_duplicate_groups(apart)


@given(policy_lists, labels, sa_label_sets, st.randoms(use_true_random=False))
def test_property_order_of_policies_changes_only_the_order_of_groups(
    specs, pod_labels, sa_labels, rng
):
    shuffled = list(specs)
    rng.shuffle(shuffled)
    assert set(groups_for(specs, pod_labels, sa_labels)) == set(
        groups_for(shuffled, pod_labels, sa_labels)
    )


@given(policy_lists, matchable_specs(), st.integers(min_value=0), labels, sa_label_sets)
def test_property_adding_a_policy_that_does_not_select_the_pod_changes_nothing(
    specs, extra, position, pod_labels, sa_labels
):
    if policy_selects(extra, pod_labels, sa_labels)[0]:
        extra = {**extra, "podSelector": {"matchLabels": {"never-set": "x"}}}
    assert not policy_selects(extra, pod_labels, sa_labels)[0]
    position %= len(specs) + 1
    with_extra = [*specs[:position], extra, *specs[position:]]
    assert groups_for(with_extra, pod_labels, sa_labels) == groups_for(specs, pod_labels, sa_labels)


@given(selectors(), selectors(), labels, labels, st.lists(pooled_group_ids, min_size=1))
def test_property_both_selectors_present_means_and(pod_sel, sa_sel, pod_labels, sa_labels, groups):
    both = policy_selects(spec(pod_sel, sa_sel, groups), pod_labels, sa_labels)[0]
    pod_only = policy_selects(spec(pod=pod_sel, groups=groups), pod_labels, sa_labels)[0]
    sa_only = policy_selects(spec(sa=sa_sel, groups=groups), pod_labels, sa_labels)[0]
    assert both == (pod_only and sa_only)


@given(labels, sa_label_sets, st.lists(pooled_group_ids, min_size=1))
def test_property_empty_pod_selector_selects_every_pod(pod_labels, sa_labels, groups):
    assert groups_for([spec(pod={}, groups=groups)], pod_labels, sa_labels) == (
        remove_duplicate_groups(groups)
    )


@given(labels, sa_label_sets, st.lists(pooled_group_ids))
def test_property_a_policy_without_selectors_never_contributes(pod_labels, sa_labels, groups):
    assert groups_for([spec(groups=groups)], pod_labels, sa_labels) == []


@given(policy_lists, labels, sa_label_sets)
def test_property_every_group_comes_from_a_selected_policy(specs, pod_labels, sa_labels):
    result = security_groups_for_pod(
        [PolicyView(f"p{i}", s) for i, s in enumerate(specs)], pod_labels, sa_labels
    )
    by_name = {f"p{i}": s for i, s in enumerate(specs)}
    contributed = {g for name in result.matched for g in group_ids_of(by_name[name])}
    assert set(result.group_ids) == contributed
    assert set(result.reasons) == set(by_name)
