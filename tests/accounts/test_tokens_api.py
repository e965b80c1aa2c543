"""/api/tokens/: users list, issue and revoke their own tokens; the secret is shown once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.models import APIToken, hash_token

TOKENS = reverse("apitoken-list")


@pytest.fixture
def owner(user_factory, db):
    return user_factory("viewer")


@pytest.fixture
def session_client(owner):
    client = APIClient()
    client.force_login(owner)
    return client


def test_issue_returns_the_secret_once_and_stores_only_its_hash(owner, session_client):
    response = session_client.post(TOKENS, {"description": "ci", "write_enabled": True}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    secret = body["secret"]
    token = APIToken.objects.get(pk=body["id"])
    assert token.user == owner
    assert token.key_hash == hash_token(secret) != secret
    assert body["key_prefix"] == secret[: len(token.key_prefix)]
    assert response["Cache-Control"] == "no-store"
    listed = session_client.get(TOKENS).json()["results"]
    assert [t["id"] for t in listed] == [token.pk]
    assert "secret" not in listed[0]
    assert "secret" not in session_client.get(reverse("apitoken-detail", args=[token.pk])).json()


def test_a_replayed_issue_never_stores_or_shows_the_secret_again(owner, session_client):
    from apps.core.models import IdempotencyKey

    first = session_client.post(TOKENS, {"description": "ci"}, format="json",
                                HTTP_IDEMPOTENCY_KEY="tok-1")
    assert first.status_code == 201 and first.json()["secret"]
    stored = IdempotencyKey.objects.get(key="tok-1")
    assert "secret" not in stored.response_body
    assert first.json()["secret"] not in str(stored.response_body)
    again = session_client.post(TOKENS, {"description": "ci"}, format="json",
                                HTTP_IDEMPOTENCY_KEY="tok-1")
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert "secret" not in again.json() and again.json()["id"] == first.json()["id"]
    assert "shown only once" in again["Warning"] and again["Cache-Control"] == "no-store"
    assert APIToken.objects.filter(user=owner).count() == 1


def test_issued_secret_authenticates(session_client):
    secret = session_client.post(TOKENS, {}, format="json").json()["secret"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert client.get(TOKENS).status_code == 200


def test_users_see_and_revoke_only_their_own_tokens(owner, session_client, user_factory):
    other, _ = APIToken.issue(user_factory("admin"))
    assert session_client.get(TOKENS).json()["results"] == []
    detail = reverse("apitoken-detail", args=[other.pk])
    assert session_client.get(detail).status_code == 404
    assert session_client.delete(detail).status_code == 404
    assert APIToken.objects.filter(pk=other.pk).exists()


def test_revoked_token_stops_working(owner, client_for_user):
    client = client_for_user(owner)
    token = APIToken.objects.get(user=owner)
    assert client.delete(reverse("apitoken-detail", args=[token.pk])).status_code == 204
    assert client.get(TOKENS).status_code == 401


def test_read_only_token_cannot_issue_tokens(owner, client_for_user):
    client = client_for_user(owner, write=False)
    assert client.get(TOKENS).status_code == 200
    assert client.post(TOKENS, {}, format="json").status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"allowed_cidrs": ["10.0.0.0/8", "not-a-network"]}, "allowed_cidrs"),
        ({"allowed_cidrs": "10.0.0.0/8"}, "allowed_cidrs"),
        ({"expires": "2001-01-01T00:00:00Z"}, "expires"),
        ({"write_enabled": "yes"}, "write_enabled"),
        ({"node_name": "ip-10-0-0-1"}, "cluster"),
        ({"enabled": False, "secret": "mine"}, "secret"),
        ({"key_hash": "0" * 64}, "key_hash"),
    ],
)
def test_bad_token_requests_are_field_errors(session_client, body, field):
    response = session_client.post(TOKENS, body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not APIToken.objects.exists()


def test_only_cluster_admins_issue_node_tokens(alpha, user_factory):
    viewer = APIClient()
    viewer.force_login(user_factory("viewer", alpha))
    body = {"cluster": "alpha", "node_name": "ip-10-0-0-1"}
    response = viewer.post(TOKENS, body, format="json")
    assert response.status_code == 400
    assert "node_name" in response.json()
    admin = APIClient()
    admin.force_login(user_factory("admin", alpha))
    response = admin.post(TOKENS, body, format="json")
    assert response.status_code == 201, response.content
    assert APIToken.objects.get().is_node_token


def test_node_token_cannot_manage_tokens(alpha, user_factory, client_for_user):
    client = client_for_user(user_factory("admin"), cluster=alpha, node_name="n1")
    assert client.get(TOKENS).status_code == 403


def test_anonymous_is_401(anonymous_api, db):
    assert anonymous_api.get(TOKENS).status_code == 401
    assert anonymous_api.post(TOKENS, {}, format="json").status_code == 401


def test_expiry_in_the_future_is_kept(session_client):
    expires = timezone.now() + timedelta(days=30)
    response = session_client.post(TOKENS, {"expires": expires.isoformat()}, format="json")
    assert response.status_code == 201
    assert APIToken.objects.get().expires == expires


def test_token_list_runs_constant_number_of_queries(owner, session_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    APIToken.issue(owner)
    with CaptureQueriesContext(connection) as one:
        session_client.get(TOKENS)
    for _ in range(5):
        APIToken.issue(owner)
    with CaptureQueriesContext(connection) as many:
        assert len(session_client.get(TOKENS).json()["results"]) == 6
    assert len(many) == len(one)


def test_me_describes_the_caller_roles_and_token(alpha, user_factory, client_for_user):
    user = user_factory("editor", alpha, "team-a")
    response = client_for_user(user, write=False).get(reverse("me"))
    assert response.status_code == 200
    body = response.json()
    assert (body["username"], body["is_superuser"]) == (user.username, False)
    assert body["roles"] == [{"role": "editor", "cluster": "alpha", "namespace": "team-a"}]
    assert body["token"]["write_enabled"] is False
    assert "secret" not in body["token"]


def test_me_with_a_session_has_no_token(session_client, owner):
    body = session_client.get(reverse("me")).json()
    assert body["token"] is None
    assert body["roles"] == [{"role": "viewer", "cluster": None, "namespace": ""}]


def test_me_anonymous_is_401(anonymous_api, db):
    assert anonymous_api.get(reverse("me")).status_code == 401


def test_a_token_issues_tokens_no_broader_than_itself(owner):
    limit = timezone.now() + timedelta(days=1)
    _issuer, secret = APIToken.issue(owner, write_enabled=True, expires=limit,
                                     allowed_cidrs=["127.0.0.0/8"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    within = (limit - timedelta(hours=1)).isoformat()

    def issue(**fields):
        return client.post(TOKENS, fields, format="json", REMOTE_ADDR="127.0.0.1")

    assert "expires" in issue(allowed_cidrs=["127.0.0.1/32"]).json()  # no expiry: outlives it
    later = (limit + timedelta(hours=1)).isoformat()
    assert "expires" in issue(allowed_cidrs=["127.0.0.1/32"], expires=later).json()
    assert "allowed_cidrs" in issue(expires=within).json()  # anywhere: broader
    assert "allowed_cidrs" in issue(expires=within, allowed_cidrs=["10.0.0.0/8"]).json()
    assert "allowed_cidrs" in issue(expires=within, allowed_cidrs=["::1/128"]).json()
    narrower = issue(expires=within, allowed_cidrs=["127.0.0.1/32"], write_enabled=True)
    assert narrower.status_code == 201, narrower.content
    assert APIToken.objects.filter(user=owner).count() == 2


def test_a_read_only_token_cannot_issue_a_writing_token(owner):
    _issuer, secret = APIToken.issue(owner, write_enabled=False)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    response = client.post(TOKENS, {"write_enabled": True}, format="json")
    assert response.status_code in (400, 403)
    assert APIToken.objects.filter(user=owner).count() == 1
