"""Bearer token authentication: each refusal says why, and last_used is kept."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.models import APIToken

URL = reverse("policy-list")


@pytest.fixture
def issue(db, user_factory):
    def issue(**fields):
        user = user_factory("viewer")
        token, secret = APIToken.issue(user, **fields)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        return token, client

    return issue


def test_valid_token_authenticates_and_records_last_use(issue):
    token, client = issue()
    assert client.get(URL).status_code == 200
    token.refresh_from_db()
    assert token.last_used is not None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"enabled": False}, "Token is disabled."),
        ({"expires": timezone.now() - timedelta(seconds=1)}, "Token has expired."),
        ({"allowed_cidrs": ["192.0.2.0/24"]}, "Token is not allowed from this address."),
    ],
)
def test_refused_tokens_are_401_with_the_reason(issue, fields, message):
    token, client = issue()
    APIToken.objects.filter(pk=token.pk).update(**fields)
    response = client.get(URL)
    assert response.status_code == 401
    assert response.json() == {"detail": message}
    assert response["WWW-Authenticate"] == "Bearer"


def test_token_from_allowed_network_works(issue):
    _token, client = issue(allowed_cidrs=["127.0.0.0/8"])
    assert client.get(URL, REMOTE_ADDR="127.0.0.1").status_code == 200


def test_inactive_user_is_refused(issue):
    token, client = issue()
    token.user.is_active = False
    token.user.save()
    assert client.get(URL).json() == {"detail": "User is inactive."}


@pytest.mark.parametrize("header", ["Bearer", "Bearer a b", "Bearer nope"])
def test_malformed_or_unknown_tokens_are_401(db, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    assert client.get(URL).status_code == 401


def test_token_with_write_flag_off_can_read_but_not_write(alpha, user_factory, client_for_user):
    client = client_for_user(user_factory("editor", alpha), write=False)
    assert client.get(URL).status_code == 200
    body = {"cluster": "alpha", "namespace": "a", "name": "b", "spec": {}}
    assert client.post(URL, body, format="json").status_code == 403


def test_refused_token_is_logged_with_reason_and_address(issue, caplog):
    token, client = issue()
    APIToken.objects.filter(pk=token.pk).update(enabled=False)
    with caplog.at_level("WARNING", logger="sgpadmin.auth"):
        client.get(URL, REMOTE_ADDR="198.51.100.7")
    assert "token refused reason='Token is disabled.' address=198.51.100.7" in caplog.text
