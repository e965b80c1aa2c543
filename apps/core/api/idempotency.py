"""``Idempotency-Key`` on POST: a retried request gets the stored response back.

Same key and same request (method, path, canonical body) → the first response is
replayed with ``Idempotent-Replayed: true``; same key with a different request → 422.
Only successful (2xx) responses are stored: a refused request (a validation error, say)
leaves no trace, so a corrected retry may reuse its key.
"""

from __future__ import annotations

import functools
import hashlib
import json
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.response import Response

from apps.core.models import IdempotencyKey

from .exceptions import Conflict, UnprocessableRequest

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
REPLAYED_HEADERS = ("ETag", "Location", "Warning")


def ttl() -> timedelta:
    return timedelta(seconds=int(getattr(settings, "SGPADMIN_IDEMPOTENCY_TTL_SECONDS", 86400)))


def fingerprint(request) -> str:
    """Method, full path with its query string (the YAML import takes its cluster and
    change message there) and body."""
    try:
        body = json.dumps(request.data, sort_keys=True, default=str)
    except (TypeError, ValueError):  # pragma: no cover - parsers only produce JSON types
        body = repr(request.data)
    material = f"{request.method}\n{request.get_full_path()}\n{body}"
    return hashlib.sha256(material.encode()).hexdigest()


def _replay(stored: IdempotencyKey) -> Response:
    headers = dict(stored.response_headers or {})
    headers["Idempotent-Replayed"] = "true"
    headers["Cache-Control"] = "no-store"
    return Response(stored.response_body, status=stored.status_code, headers=headers)


def _stored_body(data, unstored_fields: tuple[str, ...]):
    if not unstored_fields or not isinstance(data, dict):
        return data
    return {k: v for k, v in data.items() if k not in unstored_fields}


def _stored_headers(response, unstored_fields: tuple[str, ...]) -> dict[str, str]:
    headers = {h: response[h] for h in REPLAYED_HEADERS if h in response}
    if unstored_fields:
        shown_once = ", ".join(unstored_fields)
        headers["Warning"] = (
            f'299 - "{shown_once}: shown only once and not kept for replays; if it was lost, '
            'revoke what was created and make another"'
        )
    return headers


def idempotent(handler=None, *, unstored_fields: tuple[str, ...] = ()):
    """Wrap a POST handler of a viewset so that ``Idempotency-Key`` is honoured.

    ``unstored_fields``: fields of the answer that must never be written to the database
    (a token's secret): a replay answers without them, and says so in ``Warning``.
    """
    if handler is None:
        return functools.partial(idempotent, unstored_fields=unstored_fields)

    @functools.wraps(handler)
    def wrapper(self, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return handler(self, request, *args, **kwargs)
        if not key.strip() or len(key) > MAX_KEY_LENGTH:
            raise exceptions.ValidationError(
                {HEADER: [f"An idempotency key is 1 to {MAX_KEY_LENGTH} characters."]}
            )
        now = timezone.now()
        # Expired keys of this user go now (one indexed query), so the table stays small.
        IdempotencyKey.objects.filter(user=request.user, expires__lte=now).delete()
        request_fingerprint = fingerprint(request)
        stored = IdempotencyKey.objects.filter(user=request.user, key=key).first()
        if stored is not None:
            if stored.fingerprint != request_fingerprint:
                raise UnprocessableRequest(
                    f"The Idempotency-Key {key!r} was already used for a different request; "
                    "use a new key for a new request."
                )
            return _replay(stored)
        try:
            with transaction.atomic():
                response = handler(self, request, *args, **kwargs)
                if 200 <= response.status_code < 300:
                    with transaction.atomic():
                        IdempotencyKey.objects.create(
                            user=request.user,
                            key=key,
                            fingerprint=request_fingerprint,
                            status_code=response.status_code,
                            response_body=_stored_body(response.data, unstored_fields),
                            response_headers=_stored_headers(response, unstored_fields),
                            expires=now + ttl(),
                        )
        except IntegrityError as exc:
            if not IdempotencyKey.objects.filter(user=request.user, key=key).exists():
                raise
            raise Conflict(
                f"A request with the Idempotency-Key {key!r} is already being processed."
            ) from exc
        return response

    return wrapper
