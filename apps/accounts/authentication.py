"""``Authorization: Bearer <secret>`` against hashed API tokens."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.utils import timezone
from rest_framework import authentication, exceptions

from .addresses import client_address
from .models import APIToken, hash_token

LAST_USED_RESOLUTION = timedelta(minutes=1)
logger = logging.getLogger("sgpadmin.auth")


class TokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        try:
            return self._authenticate(request)
        except exceptions.AuthenticationFailed as exc:
            logger.warning(
                "token refused reason=%r address=%s", str(exc.detail), client_address(request) or "-"
            )
            raise

    def _authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        parts = header.split()
        if parts[0].lower() not in ("bearer", "token"):
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Authorization header must be 'Bearer <token>'.")
        token = (
            APIToken.objects.select_related("user", "cluster")
            .filter(key_hash=hash_token(parts[1]))
            .first()
        )
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        if not token.enabled:
            raise exceptions.AuthenticationFailed("Token is disabled.")
        if token.is_expired:
            raise exceptions.AuthenticationFailed("Token has expired.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("User is inactive.")
        if not token.allows_address(client_address(request)):
            raise exceptions.AuthenticationFailed("Token is not allowed from this address.")
        now = timezone.now()
        if token.last_used is None or now - token.last_used > LAST_USED_RESOLUTION:
            APIToken.objects.filter(pk=token.pk).update(last_used=now)
        return token.user, token

    def authenticate_header(self, request):
        return self.keyword
