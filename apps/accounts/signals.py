"""Authentication events in the log (for a SIEM or fail2ban): who, from where, how it ended."""

from __future__ import annotations

import logging

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

logger = logging.getLogger("sgpadmin.auth")


def client_address(request) -> str:
    return (request.META.get("REMOTE_ADDR") if request is not None else None) or "-"


@receiver(user_logged_in)
def log_login(sender, request, user, **kwargs):
    logger.info("login succeeded user=%s address=%s", user.get_username(), client_address(request))


@receiver(user_logged_out)
def log_logout(sender, request, user, **kwargs):
    name = user.get_username() if user is not None else "-"
    logger.info("logout user=%s address=%s", name, client_address(request))


@receiver(user_login_failed)
def log_login_failure(sender, credentials, request=None, **kwargs):
    logger.warning(
        "login failed user=%s address=%s", credentials.get("username", "-"), client_address(request)
    )
