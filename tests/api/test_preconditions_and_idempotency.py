"""ETag / If-Match details and Idempotency-Key storage (per user, expiring)."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.exceptions import ParseError

from apps.core.api.etags import if_match_satisfied, if_none_match_hit
from apps.core.api.parsers import read_limited
from apps.core.api.viewsets import warning_header
from apps.core.models import IdempotencyKey
from apps.policies.models import Policy
from tests.factories import PolicyFactory, policy_spec

LIST = reverse("policy-list")


def body(name="web"):
    return {"cluster": "alpha", "namespace": "team-a", "name": name, "spec": policy_spec()}


@pytest.mark.parametrize(
    ("header", "satisfied"),
    [
        (None, True),
        ("*", True),
        ('"7-v3"', True),
        ('W/"7-v3"', True),
        ('"7-v2", "7-v3"', True),
        ('"7-v2"', False),
        ("", False),
    ],
)
def test_if_match(header, satisfied):
    assert if_match_satisfied(header, '"7-v3"') is satisfied


def test_if_none_match():
    assert if_none_match_hit('"1-v1"', '"1-v1"')
    assert not if_none_match_hit(None, '"1-v1"')
    assert not if_none_match_hit('"1-v0"', '"1-v1"')


def test_if_match_star_updates_an_existing_policy(alpha, api_for):
    policy = PolicyFactory(cluster=alpha)
    response = api_for("editor").patch(
        reverse("policy-detail", args=[policy.pk]), {"description": "x"}, format="json", HTTP_IF_MATCH="*"
    )
    assert response.status_code == 200


def test_stale_put_changes_nothing(alpha, api_for):
    policy = PolicyFactory(cluster=alpha, description="kept")
    response = api_for("editor").put(
        reverse("policy-detail", args=[policy.pk]), {**body(policy.name), "description": "lost"},
        format="json", HTTP_IF_MATCH=f'"{policy.pk}-v0"',
    )
    assert response.status_code == 412
    assert response["ETag"] == f'"{policy.pk}-v1"'
    policy.refresh_from_db()
    assert (policy.description, policy.version) == ("kept", 1)


def test_idempotency_keys_are_per_user(alpha, api_for):
    first, second = api_for("editor"), api_for("editor")
    assert first.post(LIST, body("a"), format="json", HTTP_IDEMPOTENCY_KEY="same").status_code == 201
    response = second.post(LIST, body("b"), format="json", HTTP_IDEMPOTENCY_KEY="same")
    assert response.status_code == 201
    assert not response.has_header("Idempotent-Replayed")
    assert set(Policy.objects.values_list("name", flat=True)) == {"a", "b"}


def test_expired_key_runs_the_request_again(alpha, api_for):
    client = api_for("editor")
    client.post(LIST, body(), format="json", HTTP_IDEMPOTENCY_KEY="k")
    IdempotencyKey.objects.update(expires=timezone.now() - timedelta(seconds=1))
    Policy.objects.all().delete()
    response = client.post(LIST, body(), format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert response.status_code == 201
    assert not response.has_header("Idempotent-Replayed")
    assert Policy.objects.count() == 1


def test_replay_keeps_the_etag_and_location(alpha, api_for):
    client = api_for("editor")
    first = client.post(LIST, body(), format="json", HTTP_IDEMPOTENCY_KEY="k")
    again = client.post(LIST, body(), format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert (again["ETag"], again["Location"]) == (first["ETag"], first["Location"])
    assert Policy.objects.count() == 1


def test_failed_request_does_not_burn_its_key(alpha, api_for):
    client = api_for("editor")
    bad = {**body(), "spec": {}}
    assert client.post(LIST, bad, format="json", HTTP_IDEMPOTENCY_KEY="k").status_code == 400
    assert client.post(LIST, body(), format="json", HTTP_IDEMPOTENCY_KEY="k").status_code == 201


@pytest.mark.parametrize("key", ["", "   ", "x" * 256])
def test_bad_keys_are_400(alpha, api_for, key):
    response = api_for("editor").post(LIST, body(), format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()
    assert not Policy.objects.exists()


def test_warning_header_escapes_quotes():
    header = warning_header({"spec": ['say "hi"', "two"]})
    assert header == '299 - "spec: say \\"hi\\"", 299 - "spec: two"'


def test_read_limited_refuses_more_than_the_limit(settings):
    settings.SGPADMIN_MAX_BODY_BYTES = 4
    assert read_limited(io.BytesIO(b"1234")) == b"1234"
    with pytest.raises(ParseError, match="larger than 4 bytes"):
        read_limited(io.BytesIO(b"12345"))
