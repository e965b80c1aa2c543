"""What-if preview (apps/policies/preview.py)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from apps.policies.models import Policy
from apps.policies.preview import preview_diff, preview_matches
from tests.factories import ClusterFactory, PodFactory, ServiceAccountFactory

pytestmark = pytest.mark.django_db

DB_GROUP, WEB_GROUP, BASE_GROUP = "sg-0000000d", "sg-0000000e", "sg-0000000b"


def spec(pod=None, sa=None, groups=(DB_GROUP,)) -> dict:
    result: dict = {"securityGroups": {"groupIds": list(groups)}}
    if pod is not None:
        result["podSelector"] = pod
    if sa is not None:
        result["serviceAccountSelector"] = sa
    return result


@pytest.fixture
def cluster():
    return ClusterFactory(name="prod")


@pytest.fixture
def shop(cluster):
    """The upstream fixtures as inventory rows, plus pods that must not be selected."""
    ServiceAccountFactory(
        cluster=cluster, namespace="shop", name="db-sa", labels={"role": "db", "environment": "qa"}
    )
    ServiceAccountFactory(
        cluster=cluster,
        namespace="shop",
        name="dev-sa",
        labels={"role": "db", "environment": "dev"},
    )
    pods = {
        "db-0": PodFactory(
            cluster=cluster,
            namespace="shop",
            name="db-0",
            node_name="node-1",
            service_account_name="db-sa",
            labels={"role": "db", "environment": "qa", "app": "test_app"},
        ),
        "db-dev": PodFactory(
            cluster=cluster,
            namespace="shop",
            name="db-dev",
            node_name="node-2",
            service_account_name="dev-sa",
            labels={"role": "db", "environment": "dev"},
        ),
        "web-0": PodFactory(
            cluster=cluster,
            namespace="shop",
            name="web-0",
            node_name="node-1",
            service_account_name="default",
            labels={"role": "web"},
        ),
    }
    # Never selected: deleted, on the host network, in another namespace or cluster.
    PodFactory(
        cluster=cluster,
        namespace="shop",
        name="db-gone",
        labels={"role": "db"},
        deleted_at=timezone.now(),
    )
    PodFactory(
        cluster=cluster, namespace="shop", name="db-host", labels={"role": "db"}, host_network=True
    )
    PodFactory(cluster=cluster, namespace="other", name="db-elsewhere", labels={"role": "db"})
    PodFactory(
        cluster=ClusterFactory(name="staging"),
        namespace="shop",
        name="db-staging",
        labels={"role": "db"},
    )
    return pods


def names(rows):
    return [row["name"] for row in rows]


def test_pod_selector_preview_lists_selected_pods_with_their_node(cluster, shop):
    rows = preview_matches(cluster, "shop", spec(pod={"matchLabels": {"role": "db"}}))
    assert names(rows) == ["db-0", "db-dev"]
    assert rows[0] == {
        "namespace": "shop",
        "name": "db-0",
        "uid": shop["db-0"].uid,
        "node": "node-1",
        "phase": "Running",
        "service_account": "db-sa",
        "reason": "podSelector matches",
    }


def test_service_account_selector_uses_the_service_account_rows_labels(cluster, shop):
    fixture_selector = {
        "matchLabels": {"role": "db"},
        "matchExpressions": [
            {"key": "environment", "operator": "In", "values": ["qa", "production"]}
        ],
    }
    assert names(preview_matches(cluster, "shop", spec(sa=fixture_selector))) == ["db-0"]
    # web-0's service account "default" has no row: unknown, so not selected.
    assert names(preview_matches(cluster, "shop", spec(sa={}))) == ["db-0", "db-dev"]


def test_both_selectors_must_match(cluster, shop):
    both = spec(pod={"matchLabels": {"role": "db"}}, sa={"matchLabels": {"environment": "dev"}})
    assert names(preview_matches(cluster, "shop", both)) == ["db-dev"]


def test_empty_pod_selector_previews_every_live_pod_of_the_namespace(cluster, shop):
    assert names(preview_matches(cluster, "shop", spec(pod={}))) == ["db-0", "db-dev", "web-0"]


def test_a_spec_matching_would_ignore_previews_nothing(cluster, shop):
    assert preview_matches(cluster, "shop", spec()) == []
    assert preview_matches(cluster, "shop", spec(pod={}, groups=())) == []


def test_preview_runs_a_fixed_number_of_queries(cluster, django_assert_num_queries):
    for n in range(3):
        PodFactory(cluster=cluster, namespace="big", name=f"p-{n}", labels={"app": "x"})
    with django_assert_num_queries(2):
        assert len(preview_matches(cluster, "big", spec(pod={}))) == 3
    for n in range(3, 60):
        PodFactory(cluster=cluster, namespace="big", name=f"p-{n}", labels={"app": "x"})
    with django_assert_num_queries(2):
        assert len(preview_matches(cluster, "big", spec(pod={}))) == 60


# --- diff against the saved version -----------------------------------------------------------


@pytest.fixture
def db_policy(cluster, shop):
    return Policy.objects.create(
        cluster=cluster, namespace="shop", name="db", spec=spec(pod={"matchLabels": {"role": "db"}})
    )


def test_diff_of_an_unchanged_spec_is_empty(db_policy):
    assert preview_diff(db_policy, db_policy.spec) == {"added": [], "removed": [], "regrouped": []}


def test_diff_lists_added_and_removed_pods_with_their_group_changes(db_policy):
    narrowed_and_moved = spec(
        pod={"matchExpressions": [{"key": "environment", "operator": "NotIn", "values": ["qa"]}]}
    )
    diff = preview_diff(db_policy, narrowed_and_moved)
    assert names(diff["removed"]) == ["db-0"]
    assert names(diff["added"]) == ["web-0"]
    assert diff["regrouped"] == []
    removed, added = diff["removed"][0], diff["added"][0]
    assert (removed["groups_before"], removed["groups_after"]) == ([DB_GROUP], [])
    assert (removed["gains"], removed["loses"]) == ([], [DB_GROUP])
    assert (added["gains"], added["loses"], added["node"]) == ([DB_GROUP], [], "node-1")


def test_diff_reports_pods_whose_groups_change_though_still_selected(db_policy):
    diff = preview_diff(
        db_policy, spec(pod={"matchLabels": {"role": "db"}}, groups=[DB_GROUP, WEB_GROUP])
    )
    assert (diff["added"], diff["removed"]) == ([], [])
    assert names(diff["regrouped"]) == ["db-0", "db-dev"]
    assert diff["regrouped"][0]["gains"] == [WEB_GROUP]


def test_diff_accounts_for_the_other_policies_of_the_namespace(cluster, db_policy):
    # A baseline policy already gives every pod BASE_GROUP and DB_GROUP: removing db-0 from
    # this policy changes nothing for it, so it is not reported as losing anything.
    Policy.objects.create(
        cluster=cluster,
        namespace="shop",
        name="baseline",
        spec=spec(pod={}, groups=[BASE_GROUP, DB_GROUP]),
    )
    Policy.objects.create(
        cluster=cluster, namespace="other", name="elsewhere", spec=spec(pod={}, groups=[WEB_GROUP])
    )
    diff = preview_diff(db_policy, spec(pod={"matchLabels": {"role": "nothing"}}))
    assert names(diff["removed"]) == ["db-0", "db-dev"]
    removed = diff["removed"][0]
    assert removed["groups_before"] == removed["groups_after"] == [BASE_GROUP, DB_GROUP]
    assert (removed["gains"], removed["loses"]) == ([], [])


def test_diff_of_an_unsaved_policy_treats_every_selected_pod_as_added(cluster, shop):
    draft = Policy(cluster=cluster, namespace="shop", name="draft", spec={})
    diff = preview_diff(draft, spec(sa={"matchLabels": {"environment": "dev"}}))
    assert names(diff["added"]) == ["db-dev"]
    assert diff["added"][0]["groups_after"] == [DB_GROUP]


def test_diff_runs_a_fixed_number_of_queries(cluster, django_assert_num_queries):
    policy = Policy.objects.create(cluster=cluster, namespace="big", name="p", spec=spec(pod={}))
    Policy.objects.create(
        cluster=cluster, namespace="big", name="q", spec=spec(pod={}, groups=[WEB_GROUP])
    )
    ServiceAccountFactory(cluster=cluster, namespace="big", name="default")
    for n in range(2):
        PodFactory(cluster=cluster, namespace="big", name=f"p-{n}")
    with django_assert_num_queries(3):
        assert len(preview_diff(policy, spec(pod={"matchLabels": {"x": "y"}}))["removed"]) == 2
    for n in range(2, 50):
        PodFactory(cluster=cluster, namespace="big", name=f"p-{n}")
    with django_assert_num_queries(3):
        assert len(preview_diff(policy, spec(pod={"matchLabels": {"x": "y"}}))["removed"]) == 50
