"""Roles through the API (viewer < editor < approver < admin), and session login."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from apps.accounts.scoping import user_can
from tests.factories import PolicyFactory, policy_spec

POLICIES = reverse("policy-list")


def body(cluster, namespace="team-a", name="web"):
    return {"cluster": cluster.name, "namespace": namespace, "name": name, "spec": policy_spec()}


@pytest.mark.parametrize(
    ("role", "may_write_policies", "may_write_clusters"),
    [("viewer", False, False), ("editor", True, False), ("approver", True, False), ("admin", True, True)],
)
def test_role_ladder(alpha, api_for, role, may_write_policies, may_write_clusters):
    client = api_for(role)
    created = client.post(POLICIES, body(alpha), format="json")
    assert created.status_code == (201 if may_write_policies else 403)
    cluster = client.post(reverse("cluster-list"), {"name": "gamma", "vpc_id": "vpc-0000000c"}, format="json")
    assert cluster.status_code == (201 if may_write_clusters else 403)


def test_cluster_scoped_admin_cannot_create_other_clusters(alpha, api_for):
    client = api_for("admin", alpha)
    response = client.post(reverse("cluster-list"), {"name": "gamma", "vpc_id": "vpc-0000000c"}, format="json")
    assert response.status_code == 403
    assert client.patch(reverse("cluster-detail", args=[alpha.pk]), {"description": "x"}, format="json").status_code == 200


def test_superuser_needs_no_binding(alpha, user_factory, client_for_user):
    client = client_for_user(user_factory(None, superuser=True))
    assert client.post(POLICIES, body(alpha), format="json").status_code == 201


def test_user_can_reads_bindings_by_cluster_and_namespace(alpha, beta, user_factory):
    user = user_factory("editor", alpha, "team-a")
    assert user_can(user, "change", "alpha", "team-a")
    assert not user_can(user, "change", "alpha", "team-b")
    assert not user_can(user, "view", "beta")
    assert not user_can(user, "admin")


def test_viewer_in_one_namespace_and_editor_in_another(alpha, user_factory, client_for_user):
    from apps.accounts.models import RoleBinding

    user = user_factory("viewer", alpha, "team-a")
    RoleBinding.objects.create(user=user, role="editor", cluster=alpha, namespace="team-b")
    client = client_for_user(user)
    seen = PolicyFactory(cluster=alpha, namespace="team-a")
    assert client.get(reverse("policy-detail", args=[seen.pk])).status_code == 200
    assert client.patch(reverse("policy-detail", args=[seen.pk]), {"description": "x"}, format="json").status_code == 404
    assert client.post(POLICIES, body(alpha, "team-b"), format="json").status_code == 201


def test_session_login_gives_api_access_and_logout_ends_it(db, alpha, user_factory):
    user = user_factory("viewer")
    client = APIClient(enforce_csrf_checks=False)
    page = client.get("/login/")
    assert page.status_code == 200 and b'name="password"' in page.content
    response = client.post("/login/", {"username": user.username, "password": "pw-for-tests"})
    assert response.status_code == 302
    assert client.get(POLICIES).status_code == 200
    assert client.post("/logout/").status_code == 302
    assert client.get(POLICIES).status_code == 401


def test_wrong_password_shows_the_form_again(db, user_factory):
    user = user_factory("viewer")
    response = APIClient().post("/login/", {"username": user.username, "password": "wrong"})
    assert response.status_code == 200
    assert b"did not match" in response.content


def test_session_writes_need_csrf(alpha, user_factory):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user_factory("editor"))
    assert client.post(POLICIES, body(alpha), format="json").status_code == 403


def test_failed_login_is_logged_with_the_address(db, user_factory, caplog):
    user = user_factory("viewer")
    with caplog.at_level("WARNING", logger="sgpadmin.auth"):
        APIClient().post("/login/", {"username": user.username, "password": "wrong"}, REMOTE_ADDR="203.0.113.9")
    assert f"login failed user={user.username} address=203.0.113.9" in caplog.text
