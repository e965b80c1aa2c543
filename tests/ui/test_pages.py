"""Every page: full for a browser, a fragment for htmx (with Vary: HX-Request), a login
redirect for anonymous visitors, 404 for objects outside the user's scope."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from apps.core.jobs.models import Job

PAGES = {
    "home": lambda w: reverse("core:home"),
    "policy_list": lambda w: reverse("policies:policy_list"),
    "policy_detail": lambda w: reverse("policies:policy_detail", args=[w.web_policy.pk]),
    "policy_changelog": lambda w: reverse("policies:policy_changelog", args=[w.web_policy.pk]),
    "node_list": lambda w: reverse("inventory:node_list"),
    "node_detail": lambda w: reverse("inventory:node_detail", args=[w.busy_node.pk]),
    "cluster_usage": lambda w: reverse("inventory:cluster_usage", args=[w.alpha.pk]),
    "pod_list": lambda w: reverse("inventory:pod_list"),
    "pod_detail": lambda w: reverse("inventory:pod_detail", args=[w.web_pod.pk]),
    "group_list": lambda w: reverse("inventory:securitygroup_list"),
    "group_detail": lambda w: reverse("inventory:securitygroup_detail", args=[w.group.pk]),
    "change_list": lambda w: reverse("audit:change_list"),
    "point_in_time": lambda w: reverse("audit:point_in_time") + "?ip=10.0.1.99",
    "job_list": lambda w: reverse("core:job_list"),
    "job_detail": lambda w: reverse("core:job_detail", args=[Job.objects.get(title="t").pk]),
    "token_list": lambda w: reverse("accounts:token_list"),
}
# Pages with an htmx fragment, and a text the fragment must contain.
FRAGMENTS = {
    "policy_list": "web",
    "policy_changelog": "create",
    "node_list": "node-busy",
    "cluster_usage": "<svg",
    "node_detail": "<svg",
    "pod_list": "web-1",
    "group_list": "sg-0123456789abcdef0",
    "change_list": "request",
    "point_in_time": "gone-1",
    "job_list": "t",
    "job_detail": "job-status",
}
OBJECT_PAGES = [
    "policy_detail",
    "policy_changelog",
    "node_detail",
    "cluster_usage",
    "pod_detail",
    "group_detail",
]


@pytest.fixture
def job(world, viewer):
    return Job.objects.create(kind="x", title="t", user=viewer.user, cluster="alpha")


@pytest.mark.parametrize("page", sorted(PAGES))
def test_full_page_renders_in_the_layout(page, world, viewer, job):
    response = viewer.get(PAGES[page](world))
    assert response.status_code == 200
    body = response.content.decode()
    assert body.startswith("<!doctype html>") and 'aria-label="Main"' in body
    assert "htmx-2.0.11.min.js" in body
    assert "HX-Request" in response["Vary"]


@pytest.mark.parametrize("page", sorted(FRAGMENTS))
def test_htmx_request_gets_a_fragment(page, world, viewer, job):
    response = viewer.get(PAGES[page](world), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body and 'aria-label="Main"' not in body
    assert FRAGMENTS[page] in body
    assert "HX-Request" in response["Vary"]


@pytest.mark.parametrize("page", sorted(PAGES))
def test_anonymous_visitor_is_sent_to_login(page, world, job):
    response = Client().get(PAGES[page](world))
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


@pytest.mark.parametrize("page", OBJECT_PAGES)
def test_objects_outside_the_users_scope_are_not_found(page, world, beta_viewer):
    assert beta_viewer.get(PAGES[page](world)).status_code == 404


def test_lists_show_only_rows_in_scope(world, beta_viewer):
    body = beta_viewer.get(reverse("policies:policy_list")).content.decode()
    assert "beta-web" in body and ">web<" not in body
    nodes = beta_viewer.get(reverse("inventory:node_list")).content.decode()
    assert "beta-node" in nodes and "node-busy" not in nodes


def test_home_summarises_clusters_in_scope(world, viewer):
    body = viewer.get(reverse("core:home")).content.decode()
    assert "alpha" in body and "beta" not in body
    assert "1 pod waiting" in body  # web-2 asked for a branch ENI and has none


EDIT_PAGES = {
    "policy_add": lambda w: reverse("policies:policy_add"),
    "policy_import": lambda w: reverse("policies:policy_import"),
    "policy_edit": lambda w: reverse("policies:policy_edit", args=[w.web_policy.pk]),
    "policy_delete": lambda w: reverse("policies:policy_delete", args=[w.web_policy.pk]),
}
EDIT_MARKERS = {
    "policy_add": 'name="group_ids"',
    "policy_import": 'name="yaml_text"',
    "policy_edit": 'name="version" value="1"',
    "policy_delete": "Yes, delete team-a/web",
}


@pytest.mark.parametrize("page", sorted(EDIT_PAGES))
def test_edit_pages_render_for_editors_and_send_anonymous_visitors_to_login(page, world, editor):
    url = EDIT_PAGES[page](world)
    response = editor.get(url)
    assert response.status_code == 200 and "HX-Request" in response["Vary"]
    assert EDIT_MARKERS[page] in response.content.decode()
    assert Client().get(url)["Location"].startswith("/login/?next=")


@pytest.mark.parametrize("page", ["policy_edit", "policy_delete"])
def test_edit_pages_outside_scope_are_not_found(page, world):
    from apps.core.testing.clients import make_user

    from .conftest import browser_for

    beta_editor = browser_for(make_user("editor", world.beta))
    assert beta_editor.get(EDIT_PAGES[page](world)).status_code == 404


def test_error_pages_use_the_layout(world, viewer):
    missing = viewer.get(reverse("policies:policy_detail", args=[world.beta_policy.pk]))
    assert (
        missing.status_code == 404
        and "outside the clusters and namespaces" in missing.content.decode()
    )
    refused = viewer.get(reverse("policies:policy_add"))
    assert (
        refused.status_code == 403 and "Your role does not allow this" in refused.content.decode()
    )
