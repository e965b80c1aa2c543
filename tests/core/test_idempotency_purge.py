import datetime as dt

import pytest
from django.utils import timezone

from apps.core.models import IdempotencyKey
from apps.core.tasks import purge_expired_idempotency_keys

pytestmark = pytest.mark.django_db


def test_only_expired_keys_are_purged(django_user_model):
    user = django_user_model.objects.create_user("u", password="pw-user-123")
    now = timezone.now()
    for name, expires in (
        ("old", now - dt.timedelta(seconds=1)),
        ("fresh", now + dt.timedelta(hours=1)),
    ):
        IdempotencyKey.objects.create(
            user=user, key=name, fingerprint="f" * 64, status_code=201, expires=expires
        )
    assert purge_expired_idempotency_keys() == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["fresh"]
