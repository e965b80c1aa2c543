"""Authentication events in the log (for a SIEM or fail2ban): who, from where, how it ended."""

from __future__ import annotations

import logging

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from .addresses import client_address

logger = logging.getLogger("sgpadmin.auth")


def _shown(request) -> str:
    return client_address(request) or "-"


@receiver(user_logged_in)
def log_login(sender, request, user, **kwargs):
    logger.info("login succeeded user=%s address=%s", user.get_username(), _shown(request))


@receiver(user_logged_out)
def log_logout(sender, request, user, **kwargs):
    name = user.get_username() if user is not None else "-"
    logger.info("logout user=%s address=%s", name, _shown(request))


@receiver(user_login_failed)
def log_login_failure(sender, credentials, request=None, **kwargs):
    logger.warning(
        "login failed user=%s address=%s", credentials.get("username", "-"), _shown(request)
    )
