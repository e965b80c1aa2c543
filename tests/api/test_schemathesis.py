"""Property-based fuzzing of every operation of /api/schema/ with schemathesis, in process
against the WSGI app: no input may cause a server error. Bounded: a few examples per
operation (SGPADMIN_FUZZ_EXAMPLES, default 12), a fixed seed (derandomize), no deadline."""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from apps.core.testing.clients import make_user
from tests.factories import NodeFactory, PodFactory, PolicyFactory

pytestmark = pytest.mark.slow


# Loading the schema needs no database: it is generated from the code.
schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())


@pytest.fixture
def keep_test_connection():
    """The WSGI handler closes database connections after each request, which would drop
    the test's transaction (PostgreSQL); Django's own test client suspends this the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def bearer(transactional_db, alpha, keep_test_connection):
    """Autocommit, as in production: a refused statement must not poison later requests."""
    from apps.accounts.models import APIToken

    PolicyFactory(cluster=alpha, name="web")
    NodeFactory(cluster=alpha, name="n1")
    PodFactory(cluster=alpha, name="p1", labels={"app": "web"})
    _token, secret = APIToken.issue(make_user("admin"), write_enabled=True)
    return {"Authorization": f"Bearer {secret}"}


@schema.parametrize()
@settings(
    max_examples=int(os.environ.get("SGPADMIN_FUZZ_EXAMPLES", "12")),
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_input_causes_a_server_error(case, bearer):
    response = case.call(headers=bearer)
    case.validate_response(
        response, checks=[not_a_server_error, response_schema_conformance]
    )
