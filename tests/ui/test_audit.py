"""The change log grouped by request with diffs, and the point-in-time lookup."""

from __future__ import annotations

from django.urls import reverse

from apps.core.context import change_scope
from tests.factories import PolicyFactory

from .conftest import SG_DB


def test_changes_of_one_request_are_grouped_with_side_by_side_diffs(world, viewer):
    with change_scope(context="api", actor_name="ticketing", message="SEC-9 rollout") as scope:
        first = PolicyFactory(cluster=world.alpha, name="one")
        PolicyFactory(cluster=world.alpha, name="two")
        first.spec = {**first.spec, "securityGroups": {"groupIds": [SG_DB]}}
        first.save()
    body = viewer.get(
        reverse("audit:change_list") + f"?request_id={scope.request_id}"
    ).content.decode()
    assert body.count('class="request-group"') == 1
    assert body.count("<details") == 3
    assert "SEC-9 rollout" in body
    assert 'class="diff-add"' in body and SG_DB in body


def test_change_log_is_scoped(world, beta_viewer):
    body = beta_viewer.get(reverse("audit:change_list")).content.decode()
    assert "beta-web" in body and "team-a/web<" not in body and "node-busy" not in body


def lookup(client, **params):
    return client.get(reverse("audit:point_in_time"), params)


def test_who_held_an_ip_at_a_time(world, viewer):
    earlier = lookup(viewer, ip="10.0.1.99", at="2026-01-01T13:30")
    assert [a.pod_name for a in earlier.context["results"]] == ["gone-1"]
    body = earlier.content.decode()
    assert "node-busy" in body and SG_DB in body and "2026-01-01 14:00:00" in body
    later = lookup(viewer, ip="10.0.1.99", at="2026-01-01T16:00")
    assert [a.pod_name for a in later.context["results"]] == ["later-1"]
    assert "still held" in later.content.decode()
    between = lookup(viewer, ip="10.0.1.99", at="2026-01-01T14:30")
    assert between.context["results"] == [] and "Nobody held it then." in between.content.decode()
    every = lookup(viewer, ip="10.0.1.99")
    assert {a.pod_name for a in every.context["results"]} == {"gone-1", "later-1"}


def test_who_held_an_eni(world, viewer):
    found = lookup(viewer, eni_id="eni-0ccccccccccccccc2", at="2026-01-02T00:00")
    assert [a.pod_name for a in found.context["results"]] == ["later-1"]


def test_lookup_needs_an_ip_or_eni(world, viewer):
    response = lookup(viewer, at="2026-01-01T13:30")
    assert "Give an IP address or an ENI id." in response.content.decode()
    assert lookup(viewer, ip="not-an-ip").context["form"].errors["ip"]


def test_lookup_is_scoped(world, beta_viewer):
    assert lookup(beta_viewer, ip="10.0.1.99").context["results"] == []
