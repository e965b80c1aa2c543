"""Users manage their own API tokens; the secret is shown once and works once shown."""

from __future__ import annotations

from django.urls import reverse
from rest_framework.test import APIClient

from apps.accounts.models import APIToken, hash_token
from apps.core.testing.clients import make_user

from .conftest import browser_for


def test_issuing_a_token_shows_the_secret_once(world, viewer):
    response = viewer.post(
        reverse("accounts:token_list"),
        {
            "description": "ticketing",
            "expires_in": "30",
            "allowed_cidrs": "10.0.0.0/8, 192.168.0.0/16",
        },
    )
    assert response.status_code == 201 and response["Cache-Control"] == "no-store"
    secret = response.context["secret"]
    token = APIToken.objects.get(user=viewer.user)
    assert token.key_hash == hash_token(secret) and not token.write_enabled
    assert token.allowed_cidrs == ["10.0.0.0/8", "192.168.0.0/16"]
    assert secret in response.content.decode()
    again = viewer.get(reverse("accounts:token_list")).content.decode()
    assert secret not in again and token.key_prefix in again and "ticketing" in again


def test_the_issued_secret_authenticates_the_api(world, viewer):
    secret = viewer.post(reverse("accounts:token_list"), {"expires_in": ""}).context["secret"]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert api.get("/api/policies/").status_code == 200


def test_bad_cidr_is_refused_inline(world, viewer):
    response = viewer.post(reverse("accounts:token_list"), {"allowed_cidrs": "10.0.0.0/33"})
    assert response.status_code == 400
    assert "is not a CIDR" in response.content.decode()
    assert not APIToken.objects.filter(user=viewer.user).exists()


def test_users_see_and_revoke_only_their_own_tokens(world, viewer):
    other = make_user("viewer", world.alpha)
    theirs, _ = APIToken.issue(other, description="someone else's")
    assert "someone else" not in viewer.get(reverse("accounts:token_list")).content.decode()
    assert viewer.post(reverse("accounts:token_revoke", args=[theirs.pk])).status_code == 404
    mine, _ = APIToken.issue(viewer.user)
    assert viewer.post(reverse("accounts:token_revoke", args=[mine.pk])).status_code == 302
    assert not APIToken.objects.filter(pk=mine.pk).exists()
    assert APIToken.objects.filter(pk=theirs.pk).exists()
    assert browser_for(other).get(reverse("accounts:token_list")).status_code == 200
