"""Policy endpoints: shape, validation, warnings, filters, scope, preview."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.audit.models import ChangeRecord
from apps.policies.models import Policy
from tests.factories import PodFactory, PolicyFactory, ServiceAccountFactory, policy_spec

LIST = reverse("policy-list")
PREVIEW = reverse("policy-preview")
SIX_GROUPS = [f"sg-0123456789abcdef{i}" for i in range(6)]


def detail(policy):
    return reverse("policy-detail", args=[policy.pk])


@pytest.fixture
def editor(alpha, api_for):
    return api_for("editor", alpha)


def payload(cluster, **overrides):
    return {
        "cluster": cluster.name,
        "namespace": "team-a",
        "name": "web",
        "spec": policy_spec("sg-0123456789abcdef0"),
        **overrides,
    }


def test_policy_has_the_documented_shape(alpha, editor):
    response = editor.post(LIST, payload(alpha, description="web tier"), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {
        "id", "cluster", "namespace", "name", "spec", "description", "origin", "version",
        "created", "updated",
    }
    assert body["cluster"] == "alpha"
    assert body["spec"] == policy_spec("sg-0123456789abcdef0")
    assert (body["origin"], body["version"]) == ("api", 1)
    assert response["ETag"] == f'"{body["id"]}-v1"'
    assert response["Location"].endswith(detail(Policy.objects.get(pk=body["id"])))


def test_invalid_group_id_is_reported_at_its_path(alpha, editor):
    spec = policy_spec("sg-0123456789abcdef0", "not-a-group")
    response = editor.post(LIST, payload(alpha, spec=spec), format="json")
    assert response.status_code == 400
    errors = response.json()
    assert list(errors) == ["spec.securityGroups.groupIds[1]"]
    assert "'not-a-group' is not a security group id" in errors["spec.securityGroups.groupIds[1]"][0]
    assert not Policy.objects.exists()


def test_spec_without_selector_is_refused(alpha, editor):
    spec = {"securityGroups": {"groupIds": ["sg-0123456789abcdef0"]}}
    response = editor.post(LIST, payload(alpha, spec=spec), format="json")
    assert response.status_code == 400
    assert "podSelector or a serviceAccountSelector" in response.json()["spec"][0]


def test_more_than_five_groups_is_saved_with_a_warning_header(alpha, editor):
    response = editor.post(LIST, payload(alpha, spec=policy_spec(*SIX_GROUPS)), format="json")
    assert response.status_code == 201, response.content
    warning = response["Warning"]
    assert warning.startswith('299 - "spec.securityGroups.groupIds: 6 groups exceed')
    assert "Warning" not in editor.get(LIST)


def test_no_warning_header_for_five_groups(alpha, editor):
    response = editor.post(LIST, payload(alpha, spec=policy_spec(*SIX_GROUPS[:5])), format="json")
    assert response.status_code == 201
    assert not response.has_header("Warning")


def test_duplicate_name_in_namespace_is_refused(alpha, editor):
    PolicyFactory(cluster=alpha, namespace="team-a", name="web")
    response = editor.post(LIST, payload(alpha), format="json")
    assert response.status_code == 400
    assert "non_field_errors" in response.json()


def test_put_replaces_spec_and_bumps_version(alpha, editor):
    policy = PolicyFactory(cluster=alpha, namespace="team-a", name="web")
    new_spec = policy_spec("sg-0123456789abcdef9", labels={"app": "api"})
    response = editor.put(
        detail(policy), payload(alpha, spec=new_spec), format="json", HTTP_IF_MATCH=f'"{policy.pk}-v1"'
    )
    assert response.status_code == 200, response.content
    assert response.json()["version"] == 2
    assert response["ETag"] == f'"{policy.pk}-v2"'
    policy.refresh_from_db()
    assert policy.spec == new_spec


def test_wrong_types_are_refused_not_coerced(alpha, editor):
    response = editor.post(LIST, payload(alpha, namespace=123, description=False), format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"namespace", "description"}


def test_cluster_the_user_cannot_see_is_a_field_error(alpha, beta, editor):
    response = editor.post(LIST, payload(beta), format="json")
    assert response.status_code == 400
    assert response.json() == {"cluster": ["Nothing named 'beta' that you can see."]}


def test_namespace_outside_the_editors_scope_is_refused_and_rolled_back(alpha, api_for):
    client = api_for("editor", alpha, "team-a")
    response = client.post(LIST, payload(alpha, namespace="team-b"), format="json")
    assert response.status_code == 403
    assert not Policy.objects.exists()
    assert not ChangeRecord.objects.filter(action="create", object_type__model="policy").exists()


@pytest.mark.parametrize(
    ("field", "value"), [("namespace", "team-b"), ("name", "renamed"), ("cluster", "beta")]
)
def test_identity_of_a_policy_cannot_change(alpha, beta, api_for, field, value):
    policy = PolicyFactory(cluster=alpha, namespace="team-a", name="web")
    response = api_for("editor").patch(detail(policy), {field: value}, format="json")
    assert response.status_code == 400
    assert "cannot change" in response.json()[field][0]
    policy.refresh_from_db()
    assert (policy.cluster, policy.namespace, policy.name) == (alpha, "team-a", "web")


def test_put_with_the_same_identity_is_accepted(alpha, editor):
    policy = PolicyFactory(cluster=alpha, namespace="team-a", name="web")
    response = editor.put(detail(policy), payload(alpha, description="same identity"), format="json")
    assert response.status_code == 200, response.content


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("cluster=alpha", {"a-web", "a-db"}),
        ("namespace=team-b", {"a-db"}),
        ("name=a-web", {"a-web"}),
        ("group_id=sg-0000000000000000b", {"a-db", "b-db"}),
        ("origin=import", {"a-db"}),
        ("cluster=beta&group_id=sg-0000000000000000b", {"b-db"}),
    ],
)
def test_list_filters(alpha, beta, api_for, query, expected):
    PolicyFactory(cluster=alpha, name="a-web", spec=policy_spec("sg-0000000000000000a"))
    PolicyFactory(
        cluster=alpha, namespace="team-b", name="a-db", origin="import",
        spec=policy_spec("sg-0000000000000000b"),
    )
    PolicyFactory(cluster=beta, name="b-db", spec=policy_spec("sg-0000000000000000b"))
    response = api_for("viewer").get(f"{LIST}?{query}")
    assert response.status_code == 200
    assert {row["name"] for row in response.json()["results"]} == expected


def test_cursor_pagination_walks_every_policy_once(alpha, api_for):
    for index in range(7):
        PolicyFactory(cluster=alpha, name=f"p{index}")
    client = api_for("viewer")
    seen, url = [], f"{LIST}?limit=3"
    while url:
        page = client.get(url).json()
        assert "count" not in page
        seen += [row["name"] for row in page["results"]]
        url = page["next"]
    assert sorted(seen) == sorted(f"p{i}" for i in range(7))


def test_delete_takes_change_note_from_body(alpha, editor):
    policy = PolicyFactory(cluster=alpha)
    body = {"changelog_message": "decommissioned", "ticket_ref": "CHG-9"}
    assert editor.delete(detail(policy), body, format="json").status_code == 204
    record = ChangeRecord.objects.get(action="delete", object_id=str(policy.pk))
    assert (record.message, record.ticket_ref) == ("decommissioned", "CHG-9")


def test_delete_refuses_unknown_body_fields(alpha, editor):
    policy = PolicyFactory(cluster=alpha)
    response = editor.delete(detail(policy), {"force": True}, format="json")
    assert response.status_code == 400
    assert response.json() == {"force": ["Unknown field."]}
    assert Policy.objects.filter(pk=policy.pk).exists()


# -- preview -------------------------------------------------------------------------


def preview_body(cluster, spec, namespace="team-a"):
    return {"cluster": cluster.name, "namespace": namespace, "spec": spec}


def test_preview_lists_matching_live_pods_with_their_nodes(alpha, api_for):
    PodFactory(cluster=alpha, name="web-1", labels={"app": "web"}, node_name="node-1")
    PodFactory(cluster=alpha, name="web-2", labels={"app": "web"}, node_name="node-2")
    PodFactory(cluster=alpha, name="db-1", labels={"app": "db"})
    PodFactory(cluster=alpha, name="web-gone", labels={"app": "web"}, deleted_at="2026-01-01T00:00:00Z")
    PodFactory(cluster=alpha, namespace="team-b", name="web-other-ns", labels={"app": "web"})
    response = api_for("viewer", alpha, "team-a", write=False).post(
        PREVIEW, preview_body(alpha, policy_spec()), format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["cluster"], body["namespace"], body["count"]) == ("alpha", "team-a", 2)
    assert [(p["name"], p["node"]) for p in body["pods"]] == [("web-1", "node-1"), ("web-2", "node-2")]
    assert not Policy.objects.exists()


def test_preview_uses_service_account_labels(alpha, api_for):
    ServiceAccountFactory(cluster=alpha, name="payments", labels={"tier": "pci"})
    PodFactory(cluster=alpha, name="pay-1", service_account_name="payments")
    PodFactory(cluster=alpha, name="other-1", service_account_name="default")
    spec = {
        "serviceAccountSelector": {"matchLabels": {"tier": "pci"}},
        "securityGroups": {"groupIds": ["sg-0123456789abcdef0"]},
    }
    response = api_for("viewer", alpha).post(PREVIEW, preview_body(alpha, spec), format="json")
    assert [p["name"] for p in response.json()["pods"]] == ["pay-1"]


def test_preview_outside_scope_is_404(alpha, api_for):
    client = api_for("viewer", alpha, "team-a")
    response = client.post(PREVIEW, preview_body(alpha, policy_spec(), "team-b"), format="json")
    assert response.status_code == 404


def test_preview_reports_spec_errors_by_path(alpha, api_for):
    spec = {"podSelector": {"matchLabels": {"app": "web"}}, "securityGroups": {"groupIds": []}}
    response = api_for("viewer", alpha).post(PREVIEW, preview_body(alpha, spec), format="json")
    assert response.status_code == 400
    assert "spec.securityGroups.groupIds" in response.json()


def test_repeating_a_put_changes_nothing(alpha, editor):
    policy = PolicyFactory(cluster=alpha, namespace="team-a", name="web")
    body = payload(alpha, description="same", changelog_message="first")
    first = editor.put(detail(policy), body, format="json")
    again = editor.put(detail(policy), {**body, "changelog_message": "retry"}, format="json")
    assert (first.status_code, again.status_code) == (200, 200)
    assert first["ETag"] == again["ETag"] == f'"{policy.pk}-v2"'
    records = ChangeRecord.objects.filter(object_id=str(policy.pk), action="update")
    assert [r.message for r in records] == ["first"]
