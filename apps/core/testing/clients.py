"""Users with roles, and API clients that authenticate as them with real bearer tokens."""

from __future__ import annotations

import itertools

from rest_framework.test import APIClient

from apps.accounts.models import APIToken, RoleBinding, User

_names = itertools.count(1)


def make_user(role: str | None = None, cluster=None, namespace: str = "", *, superuser: bool = False) -> User:
    """A user holding ``role`` on ``cluster`` (None: every cluster) and ``namespace``."""
    user = User.objects.create_user(
        username=f"{role or 'nobody'}-{next(_names)}", password="pw-for-tests", is_superuser=superuser
    )
    if role:
        RoleBinding.objects.create(user=user, role=role, cluster=cluster, namespace=namespace)
    return user


def token_client(user: User, *, write: bool = True, **token_fields) -> APIClient:
    """An API client sending ``Authorization: Bearer`` with a fresh token of ``user``."""
    _token, secret = APIToken.issue(user, write_enabled=write, **token_fields)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    client.user = user
    return client


def client_with_role(role: str | None, cluster=None, namespace: str = "", *, write: bool = True) -> APIClient:
    return token_client(make_user(role, cluster, namespace), write=write)
