"""The change log: who, what, when, from where and why, for every write; never editable."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from apps.audit.models import ChangeRecord, ImmutableChangeRecord
from apps.core.context import ChangeContext, change_scope
from apps.inventory.models import Cluster
from tests.factories import PolicyFactory, UserFactory, policy_spec

CHANGES = reverse("change-list")


def rows(response):
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_api_write_is_attributed_to_request_actor_and_api(alpha, api_for):
    client = api_for("editor", alpha)
    body = {"cluster": "alpha", "namespace": "team-a", "name": "web", "spec": policy_spec()}
    response = client.post(reverse("policy-list"), body, format="json")
    record = ChangeRecord.objects.get(object_type__model="policy", action="create")
    assert str(record.request_id) == response["X-Request-ID"]
    assert (record.user, record.actor_name, record.context) == (client.user, client.user.username, "api")
    assert (record.cluster, record.namespace) == ("alpha", "team-a")
    assert record.after["spec"] == policy_spec()


def test_admin_ui_write_is_recorded_with_ui_context(db, client):
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    response = client.post(
        "/admin/inventory/cluster/add/",
        {"name": "gamma", "region": "us-west-2", "vpc_id": "vpc-0000000c", "branch_cooldown_seconds": 60},
    )
    assert response.status_code == 302, response.content[:2000]
    cluster = Cluster.objects.get(name="gamma")
    record = ChangeRecord.objects.get(object_id=str(cluster.pk), object_type__model="cluster")
    assert (record.context, record.actor_name, record.action) == ("ui", "root", "create")
    assert str(record.request_id) == response["X-Request-ID"]


def test_worker_change_keeps_the_originating_request_id(alpha):
    request_id = uuid.uuid4()
    with change_scope(request_id=str(request_id), context=ChangeContext.WORKER, actor_name="sync"):
        PolicyFactory(cluster=alpha, name="from-worker")
    record = ChangeRecord.objects.get(object_repr="team-a/from-worker")
    assert (record.request_id, record.context, record.actor_name, record.user) == (
        request_id, "worker", "sync", None,
    )


def test_update_records_before_and_after(alpha, api_for):
    policy = PolicyFactory(cluster=alpha, description="old")
    api_for("editor", alpha).patch(
        reverse("policy-detail", args=[policy.pk]), {"description": "new"}, format="json"
    )
    record = ChangeRecord.objects.get(object_id=str(policy.pk), action="update")
    assert (record.before["description"], record.after["description"]) == ("old", "new")
    assert "description" in record.changed_fields()


@pytest.fixture
def history(alpha, beta, api_for):
    """Three API writes with notes, plus one change in beta."""
    client = api_for("editor")
    url = reverse("policy-list")
    made = {}
    for name, ticket, namespace in (("a", "SEC-1", "team-a"), ("b", "SEC-2", "team-b")):
        body = {"cluster": "alpha", "namespace": namespace, "name": name, "spec": policy_spec(),
                "ticket_ref": ticket, "changelog_message": f"add {name}"}
        response = client.post(url, body, format="json")
        made[name] = (response.json()["id"], response["X-Request-ID"])
    client.delete(reverse("policy-detail", args=[made["a"][0]]) + "?ticket_ref=SEC-3")
    PolicyFactory(cluster=beta, name="elsewhere")
    return client, made


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"ticket_ref": "SEC-1"}, {("create", "team-a/a")}),
        ({"action": "delete"}, {("delete", "team-a/a")}),
        ({"namespace": "team-b"}, {("create", "team-b/b")}),
        ({"cluster": "beta"}, {("create", "beta"), ("create", "team-a/elsewhere")}),
        ({"context": "worker", "object_type": "policies.policy"}, {("create", "team-a/elsewhere")}),
        ({"object_type": "inventory.node"}, set()),
    ],
)
def test_change_filters(history, api_for, query, expected):
    got = {(r["action"], r["object_repr"]) for r in rows(api_for("viewer").get(CHANGES, query))}
    assert got == expected


def test_filter_by_request_id_actor_and_object(history, api_for):
    client, made = history
    viewer = api_for("viewer")
    by_request = rows(viewer.get(CHANGES, {"request_id": made["b"][1]}))
    assert [(r["action"], r["object_id"]) for r in by_request] == [("create", str(made["b"][0]))]
    by_actor = rows(viewer.get(CHANGES, {"actor": client.user.username}))
    assert len(by_actor) == 3
    by_object = rows(viewer.get(CHANGES, {"object_type": "policies.policy", "object_id": made["a"][0]}))
    assert [r["action"] for r in by_object] == ["delete", "create"]


def test_filter_by_time_range(history, api_for):
    viewer = api_for("viewer")
    everything = rows(viewer.get(CHANGES))
    newest = everything[0]["time"]
    assert rows(viewer.get(CHANGES, {"since": "2999-01-01T00:00:00Z"})) == []
    assert rows(viewer.get(CHANGES, {"until": "2000-01-01T00:00:00Z"})) == []
    assert newest in {r["time"] for r in rows(viewer.get(CHANGES, {"since": newest}))}


def test_change_records_follow_the_viewers_scope(history, api_for, alpha):
    namespaces = {r["namespace"] for r in rows(api_for("viewer", alpha, "team-b").get(CHANGES))}
    assert namespaces == {"team-b"}


def test_no_api_method_edits_or_deletes_a_change_record(history, api_for):
    record = ChangeRecord.objects.first()
    admin = api_for("admin")
    detail = reverse("change-detail", args=[record.pk])
    assert admin.post(CHANGES, {}, format="json").status_code == 405
    assert admin.put(detail, {}, format="json").status_code == 405
    assert admin.patch(detail, {}, format="json").status_code == 405
    assert admin.delete(detail).status_code == 405
    assert ChangeRecord.objects.filter(pk=record.pk).exists()


def test_admin_site_shows_but_cannot_change_records(history, client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    record = ChangeRecord.objects.first()
    base = "/admin/audit/changerecord/"
    assert client.get(base).status_code == 200
    assert client.get(f"{base}{record.pk}/change/").status_code == 200  # a read-only view
    assert client.post(f"{base}{record.pk}/change/", {"message": "edited"}).status_code == 403
    assert client.get(f"{base}add/").status_code == 403
    assert client.post(f"{base}{record.pk}/delete/", {"post": "yes"}).status_code == 403
    record.refresh_from_db()
    assert record.message != "edited"


def test_the_model_refuses_edits_and_deletes(history):
    record = ChangeRecord.objects.first()
    record.message = "rewritten"
    with pytest.raises(ImmutableChangeRecord):
        record.save()
    with pytest.raises(ImmutableChangeRecord):
        record.delete()
    with pytest.raises(ImmutableChangeRecord):
        ChangeRecord.objects.all().delete()
    with pytest.raises(ImmutableChangeRecord):
        ChangeRecord.objects.update(message="x")


def test_issuing_and_revoking_a_token_is_recorded_without_its_hash(db, user_factory):
    from rest_framework.test import APIClient

    from apps.accounts.models import APIToken

    client = APIClient()
    client.force_login(user_factory("viewer"))
    response = client.post(reverse("apitoken-list"), {"description": "ci"}, format="json")
    token = APIToken.objects.get(pk=response.json()["id"])
    created = ChangeRecord.objects.get(object_type__model="apitoken", action="create")
    assert created.after["description"] == "ci"
    assert "key_hash" not in created.after
    assert response.json()["secret"] not in str(created.after)
    client.delete(reverse("apitoken-detail", args=[token.pk]))
    assert ChangeRecord.objects.filter(object_type__model="apitoken", action="delete").exists()


def test_granting_a_role_in_the_admin_is_recorded(alpha, client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    grantee = UserFactory(username="alice")
    response = client.post(
        "/admin/accounts/rolebinding/add/",
        {"user": grantee.pk, "role": "editor", "cluster": alpha.pk, "namespace": "team-a"},
    )
    assert response.status_code == 302, response.content[:1000]
    record = ChangeRecord.objects.get(object_type__model="rolebinding")
    assert (record.context, record.actor_name, record.cluster, record.namespace) == (
        "ui", "root", "alpha", "team-a",
    )
    assert record.after["role"] == "editor"


def test_deleting_a_user_keeps_their_records_under_the_frozen_name(alpha):
    user = UserFactory(username="leaver")
    with change_scope(user=user, context=ChangeContext.API):
        PolicyFactory(cluster=alpha, name="kept")
    user.delete()
    record = ChangeRecord.objects.get(object_repr="team-a/kept")
    assert (record.user, record.actor_name) == (None, "leaver")
