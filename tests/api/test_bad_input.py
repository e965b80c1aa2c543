"""A battery of bad bodies against every write operation of the OpenAPI schema: each gets
a 4xx with a JSON object body, never a 500; the endpoints of this API answer 400 (415 for
a media type they do not take)."""

from __future__ import annotations

import re

import pytest
from drf_spectacular.generators import SchemaGenerator

from tests.factories import NodeFactory, PolicyFactory

WRITE_METHODS = ("post", "put", "patch")
OWN_PREFIXES = ("/api/policies/", "/api/clusters/", "/api/tokens/")

BAD_JSON_BODIES = {
    "truncated": b'{"name": ',
    "trailing garbage": b'{"name": "x"} extra',
    "array": b"[1, 2, 3]",
    "string": b'"just a string"',
    "number": b"42",
    "null": b"null",
    "nan": b'{"name": NaN}',
    "not utf-8": b'{"name": "\xff\xfe"}',
    "deeply nested": b"[" * 100_000 + b"]" * 100_000,
    "unknown field": b'{"surely_not_a_field": 1}',
    "wrong types": b'{"cluster": 1, "name": [], "namespace": {}, "spec": 7, "region": false, '
    b'"vpc_id": 3, "write_enabled": "yes", "allowed_cidrs": "10.0.0.0/8", "manifests": 1}',
}


def write_operations():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path, item in schema["paths"].items():
        for method in WRITE_METHODS:
            if method in item:
                yield method, path


@pytest.fixture
def resolve(alpha):
    policy = PolicyFactory(cluster=alpha)
    node = NodeFactory(cluster=alpha, name="n1")

    def resolve(path):
        if path.startswith("/api/policies/"):
            value = policy.pk
        elif path.startswith("/api/clusters/"):
            value = alpha.pk
        elif "nodes" in path:
            value = node.name
        else:
            value = 1
        return re.sub(r"\{[^}]+\}", str(value), path)

    return resolve


def assert_client_error(response, path):
    assert response.status_code < 500, (path, response.content[:300])
    if path.startswith(OWN_PREFIXES):
        assert response.status_code in (400, 415), (path, response.status_code, response.content[:300])
        body = response.json()
        assert isinstance(body, dict) and body, body


@pytest.mark.parametrize("kind", sorted(BAD_JSON_BODIES))
def test_bad_json_bodies_are_client_errors(kind, resolve, admin_api):
    for method, path in write_operations():
        url = resolve(path)
        response = getattr(admin_api, method)(url, BAD_JSON_BODIES[kind], content_type="application/json")
        if kind in ("unknown field", "wrong types") and path.startswith(OWN_PREFIXES):
            assert response.status_code == 400, (path, method, response.content)
        assert_client_error(response, path)


def test_malformed_json_error_names_the_body(resolve, admin_api):
    response = admin_api.post(resolve("/api/policies/"), b"{", content_type="application/json")
    assert response.status_code == 400
    assert list(response.json()) == ["body"]
    assert response.json()["body"][0].startswith("Malformed JSON")


def test_unsupported_media_types_are_refused(resolve, admin_api):
    for method, path in write_operations():
        response = getattr(admin_api, method)(resolve(path), b"a=1", content_type="text/csv")
        assert_client_error(response, path)


def test_bodies_over_the_limit_are_400(settings, resolve, admin_api):
    settings.SGPADMIN_MAX_BODY_BYTES = 2048
    padding = b'{"description": "' + b"x" * 4096 + b'"}'
    for method, path in write_operations():
        response = getattr(admin_api, method)(resolve(path), padding, content_type="application/json")
        assert_client_error(response, path)
        if path.startswith(OWN_PREFIXES):
            assert "2048 bytes" in response.json()["body"][0]


def test_yaml_import_body_over_the_limit_is_400(settings, alpha, admin_api):
    settings.SGPADMIN_MAX_BODY_BYTES = 1024
    response = admin_api.generic(
        "POST", "/api/policies/import/?cluster=alpha", "# " + "x" * 4096,
        content_type="application/yaml",
    )
    assert response.status_code == 400
    assert "body" in response.json()


def test_write_operations_cover_every_writable_endpoint():
    paths = {path for _method, path in write_operations()}
    assert {
        "/api/policies/", "/api/policies/{id}/", "/api/policies/preview/", "/api/policies/import/",
        "/api/clusters/", "/api/clusters/{id}/", "/api/tokens/",
    } <= paths


@pytest.mark.parametrize(
    ("url", "query"),
    [
        ("/api/policies/", {"cluster_id": "99999999999999999999999"}),
        ("/api/policies/", {"cluster_id": "1.5"}),
        ("/api/branch-enis/", {"private_ip": "not-an-ip"}),
        ("/api/attachments/", {"ip": "10.0.0.300"}),
        ("/api/changes/", {"request_id": "nope"}),
        ("/api/changes/", {"since": "last tuesday"}),
        ("/api/pods/", {"namespace": "nul\x00byte"}),
    ],
)
def test_bad_query_values_are_400(admin_api, url, query):
    response = admin_api.get(url, query)
    assert response.status_code == 400, response.content
    assert set(response.json()) == set(query)


def test_ids_beyond_the_column_are_404(admin_api, db):
    assert admin_api.get("/api/policies/99999999999999999999999/").status_code == 404
    assert admin_api.get("/api/tokens/99999999999999999999999/").status_code == 404


@pytest.mark.parametrize(
    ("instant", "status"),
    [
        ("0241-08-16T00:20:20+23:04", 200),  # an odd offset, normalised to UTC
        ("0001-01-01T00:00:00+05:00", 400),  # before year 1 in UTC
        ("2026-13-01T00:00:00Z", 400),
    ],
)
def test_instants_out_of_range_never_reach_the_database(admin_api, instant, status):
    response = admin_api.get("/api/changes/", {"until": instant})
    assert response.status_code == status, response.content
    if status == 400:
        assert list(response.json()) == ["until"]


def test_anonymous_large_body_is_401_not_400(settings, anonymous_api, db):
    settings.SGPADMIN_MAX_BODY_BYTES = 16
    response = anonymous_api.post("/api/policies/", b'{"description": "' + b"x" * 64 + b'"}',
                                  content_type="application/json")
    assert response.status_code == 401


def test_database_range_errors_are_400_not_500(admin_api, db, monkeypatch):
    """The safety net behind the typed filters, for any endpoint that lacks them."""
    from django.db import DataError

    from apps.inventory.api.views import NodeViewSet

    def out_of_range(self, queryset):
        raise DataError('time zone displacement out of range: "0638-01-13 10:33:04+19:48"')

    monkeypatch.setattr(NodeViewSet, "filter_queryset", out_of_range)
    response = admin_api.get("/api/nodes/")
    assert response.status_code == 400
    assert "out of range" in response.json()["non_field_errors"][0]
