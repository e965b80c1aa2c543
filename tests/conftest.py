"""Fixtures for the API, accounts and audit tests: clusters in and out of scope, clients."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from apps.core.testing.clients import client_with_role, make_user, token_client
from tests.factories import ClusterFactory


@pytest.fixture
def alpha(db):
    """The cluster the scoped users hold their roles on."""
    return ClusterFactory(name="alpha", vpc_id="vpc-0000000a")


@pytest.fixture
def beta(db):
    """A cluster outside the scoped users' roles."""
    return ClusterFactory(name="beta", vpc_id="vpc-0000000b")


@pytest.fixture
def anonymous_api():
    return APIClient()


@pytest.fixture
def admin_api(db):
    """A client with the admin role everywhere."""
    return client_with_role("admin")


@pytest.fixture
def api_for():
    """``api_for(role, cluster=None, namespace="", write=True)`` → a token client."""
    return client_with_role


@pytest.fixture
def user_factory():
    return make_user


@pytest.fixture
def client_for_user():
    return token_client
