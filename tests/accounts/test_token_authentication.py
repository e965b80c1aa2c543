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


@pytest.mark.parametrize(
    ("proxies", "peer", "forwarded", "allowed"),
    [
        # No trusted proxy: the peer is the client, X-Forwarded-For is anybody's words.
        ([], "10.1.2.3", "", True),
        ([], "203.0.113.9", "10.1.2.3", False),
        # Behind a trusted ingress: the hop it added is the client.
        (["192.168.50.0/24"], "192.168.50.7", "10.1.2.3", True),
        (["192.168.50.0/24"], "192.168.50.7", "203.0.113.9", False),
        # A client cannot put itself in the subnet by writing the header itself.
        (["192.168.50.0/24"], "192.168.50.7", "10.1.2.3, 203.0.113.9", False),
        # Two trusted hops (load balancer, then ingress): skip both.
        (["192.168.50.0/24", "172.16.0.1"], "192.168.50.7", "10.1.2.3, 172.16.0.1", True),
        # A trusted peer that forwards nothing: the peer itself.
        (["192.168.50.0/24"], "192.168.50.7", "", False),
        # A hop that is not an address: the client cannot be told.
        (["192.168.50.0/24"], "192.168.50.7", "10.1.2.3, garbage", False),
        # An untrusted peer with a trusted-looking header changes nothing.
        (["192.168.50.0/24"], "203.0.113.9", "10.1.2.3", False),
    ],
)
def test_the_cidr_check_sees_the_client_through_trusted_proxies_only(
    issue, settings, proxies, peer, forwarded, allowed
):
    import ipaddress

    settings.TRUSTED_PROXIES = [ipaddress.ip_network(p) for p in proxies]
    _token, client = issue(allowed_cidrs=["10.0.0.0/8"])
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
    response = client.get(URL, REMOTE_ADDR=peer, **headers)
    assert response.status_code == (200 if allowed else 401)


def test_the_refusal_log_names_the_forwarded_client(issue, settings, caplog):
    import ipaddress

    settings.TRUSTED_PROXIES = [ipaddress.ip_network("192.168.50.0/24")]
    _token, client = issue(allowed_cidrs=["10.0.0.0/8"])
    with caplog.at_level("WARNING", logger="sgpadmin.auth"):
        client.get(URL, REMOTE_ADDR="192.168.50.7", HTTP_X_FORWARDED_FOR="2001:db8::5")
    assert "address=2001:db8::5" in caplog.text
