"""Nodes (capacity bars, near-capacity rows, waiting pods, branches, charts), pods (why they
have their groups) and security groups (who references and who holds them)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from django.urls import reverse

from apps.inventory.models import Attachment
from apps.inventory.usage import BranchUsage, usage_history
from tests.factories import AttachmentFactory, ClusterFactory, PolicyFactory, policy_spec

from .conftest import SG_DB, SG_WEB


def test_node_list_draws_capacity_bars_and_highlights_nodes_near_capacity(world, viewer):
    body = viewer.get(reverse("inventory:node_list")).content.decode()

    def row_class(node):
        href = reverse("inventory:node_detail", args=[node.pk])
        match = re.search(
            r'<tr class="([^"]*?) ?(?:even|odd)">\s*<td[^>]*><a href="' + href + '"', body
        )
        return match.group(1) if match else None

    busy, quiet = row_class(world.busy_node), row_class(world.quiet_node)
    assert busy == "near-capacity"  # 2 in use + 2 releasing of 5 (>= 80 %)
    assert quiet == ""
    assert 'data-capacity="5" data-in-use="2" data-cooling="2"' in body
    assert "1 waiting" in body  # web-2 waits on node-busy


def test_branch_usage_percentages_and_thresholds():
    usage = BranchUsage(capacity=10, in_use=6, cooling=2)
    assert (usage.pct_in_use, usage.pct_cooling, usage.free) == (60.0, 20.0, 2)
    assert usage.near_capacity and not usage.full and usage.css_class == "near-capacity"
    assert BranchUsage(10, 9, 1).css_class == "full"
    assert BranchUsage(10, 7, 0).css_class == ""
    assert BranchUsage(0, 0, 0).pct_in_use == 0.0


def test_node_detail_lists_branches_and_waiting_pods(world, viewer):
    body = viewer.get(reverse("inventory:node_detail", args=[world.busy_node.pk])).content.decode()
    for text in (
        "eni-0bbbbbbbbbbbbbbb1",
        "10.0.1.20",
        "02:00:00:00:00:01",
        SG_WEB,
        "cooling",
        "team-a/web-2",
        "eni-0aaaaaaaaaaaaaaa1",
    ):
        assert text in body, text
    assert "No report from this node" in body or "Last report" in body


def test_usage_history_counts_in_use_then_cooling(db):
    cluster = ClusterFactory(name="hist", branch_cooldown_seconds=60)
    t0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    AttachmentFactory(
        cluster=cluster, since=t0 + timedelta(minutes=1), until=t0 + timedelta(minutes=5)
    )
    AttachmentFactory(cluster=cluster, since=t0 + timedelta(minutes=2), until=None)
    history = usage_history(
        Attachment.objects.filter(cluster=cluster), 9, 60, t0, t0 + timedelta(minutes=10)
    )

    def value(points, minute):
        at = t0 + timedelta(minutes=minute)
        return [v for t, v in points if t <= at][-1]

    assert [value(history.in_use, m) for m in (0, 1.5, 3, 5.5, 7)] == [0, 1, 2, 1, 1]
    assert [value(history.cooling, m) for m in (0, 3, 5.5, 6.5)] == [0, 0, 1, 0]
    assert history.peak == 9


def test_usage_history_starts_from_what_was_held_before_the_window(db):
    cluster = ClusterFactory(name="hist2")
    t0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    AttachmentFactory(cluster=cluster, since=t0 - timedelta(hours=2), until=None)
    history = usage_history(
        Attachment.objects.filter(cluster=cluster), 2, 60, t0, t0 + timedelta(hours=1)
    )
    assert history.in_use[0] == (t0, 1) and history.in_use[-1][1] == 1


def test_cluster_page_draws_the_usage_chart_as_svg(world, viewer):
    AttachmentFactory(cluster=world.alpha, since=datetime.now(UTC) - timedelta(hours=2))
    response = viewer.get(
        reverse("inventory:cluster_usage", args=[world.alpha.pk]) + "?hours=6",
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert body.count("<polyline") == 3
    for series in ("capacity", "in use", "cooling"):
        assert f'data-series="{series}"' in body
    assert "last 6 h" in body


def test_pod_page_explains_where_each_group_comes_from(world, viewer):
    PolicyFactory(
        cluster=world.alpha,
        name="all-pods",
        spec={"podSelector": {}, "securityGroups": {"groupIds": [SG_WEB, SG_DB]}},
    )
    PolicyFactory(
        cluster=world.alpha, name="dbs-only", spec=policy_spec(SG_DB, labels={"app": "db"})
    )
    response = viewer.get(reverse("inventory:pod_detail", args=[world.web_pod.pk]))
    explanation = response.context["explanation"]
    assert explanation.group_ids == [SG_WEB, SG_DB]
    assert explanation.policies_for(SG_WEB) == ["all-pods", "web"]
    verdicts = {v.policy.name: (v.selected, v.reason) for v in explanation.verdicts}
    assert verdicts["dbs-only"] == (False, "podSelector does not match the pod's labels")
    assert verdicts["web"][0] is True
    held = response.context["held"]
    assert [(h["group"], h["policies"]) for h in held] == [(SG_WEB, ["all-pods", "web"])]


def test_pod_list_shows_branch_eni_ip_and_groups(world, viewer):
    body = viewer.get(reverse("inventory:pod_list")).content.decode()
    row = body[body.index(">web-1<") :]
    row = row[: row.index("</tr>")]
    assert "eni-0bbbbbbbbbbbbbbb1" in row and "10.0.1.20" in row and SG_WEB in row


def test_security_group_page_lists_policies_and_holders(world, viewer):
    body = viewer.get(
        reverse("inventory:securitygroup_detail", args=[world.group.pk])
    ).content.decode()
    assert reverse("policies:policy_detail", args=[world.web_policy.pk]) in body
    assert "team-a/web-1" in body and "10.0.1.20" in body
    assert "old-1" not in body  # cooling branches no longer serve a pod


def test_node_page_shows_the_agents_report_and_disagreements(world, viewer):
    from django.utils import timezone

    from apps.inventory.models import NodeReport

    url = reverse("inventory:node_detail", args=[world.busy_node.pk])
    assert "No report from this node" in viewer.get(url).content.decode()
    NodeReport.objects.create(
        cluster=world.alpha,
        node_name="node-busy",
        received_at=timezone.now(),
        agent_version="0.1",
        mode="strict",
        report={"pods": []},
        disagreements=[
            {
                "pod": "team-a/web-1",
                "kind": "not-plumbed",
                "detail": "the node has no plumbing for it",
            }
        ],
    )
    body = viewer.get(url).content.decode()
    assert "disagree (1)" in body and "not-plumbed" in body and "team-a/web-1" in body
    assert "strict mode" in body


def test_a_namespace_viewer_sees_only_their_namespaces_pods_in_the_node_report(world):
    """The report row is visible cluster-wide (the node is), the pods in it are not: a
    viewer of team-a sees team-a's pods and disagreements, in the page and the API."""
    from django.utils import timezone

    from apps.core.testing.clients import make_user, token_client
    from apps.inventory.models import NodeReport

    from .conftest import browser_for

    def pod(namespace, name):
        return {"namespace": namespace, "name": name, "uid": f"uid-{name}", "vlanId": 1,
                "eniId": "eni-1", "branchMac": "02:00:00:00:00:01", "podIp": "10.0.0.9",
                "linkUp": True, "rulesOk": True, "routesOk": True}

    NodeReport.objects.create(
        cluster=world.alpha, node_name="node-busy", received_at=timezone.now(),
        report={"schemaVersion": 1, "node": {"name": "node-busy"},
                "pods": [pod("team-a", "web-1"), pod("team-b", "secret-app")],
                "removedLeftovers": ["vlan.eth.9"], "repaired": []},
        disagreements=[{"pod": "team-a/web-1", "kind": "mismatch", "detail": "VLAN"},
                       {"pod": "team-b/secret-app", "kind": "unhealthy", "detail": "down"}],
    )
    limited = make_user("viewer", world.alpha, "team-a")
    body = browser_for(limited).get(
        reverse("inventory:node_detail", args=[world.busy_node.pk])).content.decode()
    assert "team-a/web-1" in body and "secret-app" not in body and "disagree (1)" in body
    [row] = token_client(limited).get("/api/node-reports/").json()["results"]
    assert [p["name"] for p in row["report"]["pods"]] == ["web-1"]
    assert [d["pod"] for d in row["disagreements"]] == ["team-a/web-1"]
    assert "removedLeftovers" not in row["report"]
    [whole] = token_client(make_user("viewer", world.alpha)).get(
        "/api/node-reports/").json()["results"]
    assert len(whole["report"]["pods"]) == 2 and len(whole["disagreements"]) == 2
    assert whole["report"]["removedLeftovers"] == ["vlan.eth.9"]


def test_pod_list_filters_pods_holding_a_branch(world, viewer):
    holding = viewer.get(reverse("inventory:pod_list") + "?holds_branch=true").content.decode()
    assert ">web-1<" in holding and ">db-1<" not in holding and ">web-2<" not in holding
    without = viewer.get(reverse("inventory:pod_list") + "?holds_branch=false").content.decode()
    assert ">web-1<" not in without and ">db-1<" in without


def test_cluster_page_lists_recent_gc_runs(world, viewer):
    from django.utils import timezone

    from apps.controller.models import GCRun

    GCRun.objects.create(
        kind="sweep", cluster=world.alpha, started=timezone.now(), found=3, deleted=2, error=""
    )
    GCRun.objects.create(kind="sweep", cluster=world.beta, started=timezone.now(), found=9)
    body = viewer.get(reverse("inventory:cluster_usage", args=[world.alpha.pk])).content.decode()
    section = body[body.index('id="gc-runs"') :]
    assert "Cluster sweep of available ENIs" in section
    assert "<td>3</td><td>2</td>" in section and "<td>9</td>" not in section
