"""Inventory endpoints beyond the generic battery: "who held this IP then", filters."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from tests.factories import AttachmentFactory, NodeFactory, PodFactory

ATTACHMENTS = reverse("attachment-list")


def at(hour, minute=0):
    return datetime(2026, 1, 1, hour, minute, tzinfo=UTC)


@pytest.fixture
def ip_history(alpha):
    AttachmentFactory(cluster=alpha, private_ip="10.0.1.20", pod_name="first", since=at(13), until=at(14))
    AttachmentFactory(cluster=alpha, private_ip="10.0.1.20", pod_name="second", since=at(14), until=None)
    AttachmentFactory(cluster=alpha, private_ip="10.0.1.21", pod_name="neighbour", since=at(12), until=None)


@pytest.mark.parametrize(
    ("instant", "holder"),
    [
        ("2026-01-01T13:00:00Z", ["first"]),  # since is inclusive
        ("2026-01-01T13:59:59Z", ["first"]),
        ("2026-01-01T14:00:00Z", ["second"]),  # until is exclusive
        ("2026-01-01T16:02:00+02:00", ["second"]),  # RFC 3339 offsets
        ("2026-01-01T12:59:00Z", []),
    ],
)
def test_who_held_an_ip_at_an_instant(ip_history, api_for, instant, holder):
    response = api_for("viewer").get(ATTACHMENTS, {"ip": "10.0.1.20", "at": instant})
    assert response.status_code == 200
    assert [row["pod_name"] for row in response.json()["results"]] == holder


def test_bad_instant_is_a_field_error(api_for, db):
    response = api_for("viewer").get(ATTACHMENTS, {"at": "yesterday"})
    assert response.status_code == 400
    assert "at" in response.json()


def test_node_filters(alpha, api_for):
    NodeFactory(cluster=alpha, name="n1", managed=True)
    NodeFactory(cluster=alpha, name="n2", managed=False, deleted_at=at(9))
    client = api_for("viewer")
    names = lambda query: {r["name"] for r in client.get(reverse("node-list"), query).json()["results"]}  # noqa: E731
    assert names({"managed": "true"}) == {"n1"}
    assert names({"deleted": "true"}) == {"n2"}
    assert names({"deleted": "false"}) == {"n1"}


def test_pod_filters_by_namespace_and_node(alpha, beta, api_for):
    PodFactory(cluster=alpha, name="a", node_name="n1")
    PodFactory(cluster=alpha, name="b", namespace="team-b", node_name="n1")
    PodFactory(cluster=beta, name="c", node_name="n1")
    client = api_for("viewer")
    rows = client.get(reverse("pod-list"), {"cluster": "alpha", "node_name": "n1"}).json()["results"]
    assert {r["name"] for r in rows} == {"a", "b"}
    rows = client.get(reverse("pod-list"), {"namespace": "team-b"}).json()["results"]
    assert {r["name"] for r in rows} == {"b"}


def test_namespace_scoped_viewer_sees_cluster_wide_nodes_but_only_its_pods(alpha, api_for):
    NodeFactory(cluster=alpha, name="n1")
    PodFactory(cluster=alpha, name="mine", namespace="team-a")
    PodFactory(cluster=alpha, name="theirs", namespace="team-b")
    client = api_for("viewer", alpha, "team-a")
    assert [r["name"] for r in client.get(reverse("node-list")).json()["results"]] == ["n1"]
    assert [r["name"] for r in client.get(reverse("pod-list")).json()["results"]] == ["mine"]
