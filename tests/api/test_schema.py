"""The OpenAPI 3 schema: generated with zero warnings and errors, and served at /api/schema/."""

from __future__ import annotations

import yaml
from django.core.management import call_command


def test_schema_generates_with_no_warnings_or_errors(tmp_path):
    target = tmp_path / "schema.yaml"
    # --fail-on-warn raises on any warning or error; --validate checks OpenAPI 3 validity.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = yaml.safe_load(target.read_text())
    assert schema["openapi"].startswith("3.")
    assert "/api/policies/" in schema["paths"]
    assert schema["components"]["securitySchemes"]["bearerToken"]["scheme"] == "bearer"


def test_schema_is_served_to_anyone(client, db):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {"/api/changes/", "/api/attachments/", "/api/tokens/"} <= set(paths)


def test_policy_write_documents_the_change_note_and_warning_header(tmp_path):
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--file", str(target))
    schema = yaml.safe_load(target.read_text())
    request = schema["components"]["schemas"]["Policy"]["properties"]
    assert request["changelog_message"]["writeOnly"] is True
    assert "Warning" in schema["paths"]["/api/policies/"]["post"]["description"]
