"""YAML import (all or nothing, per-document errors) and export (kubectl manifests)."""

from __future__ import annotations

import pytest
import yaml
from django.urls import reverse

from apps.audit.models import ChangeRecord
from apps.policies.models import Policy
from apps.policies.yaml_io import parse_manifests
from tests.factories import PolicyFactory, policy_spec

IMPORT = reverse("policy-import")
EXPORT = reverse("policy-export")


def manifest(name, namespace="team-a", groups=("sg-0123456789abcdef0",)):
    return yaml.safe_dump(
        {
            "apiVersion": "vpcresources.k8s.aws/v1beta1",
            "kind": "SecurityGroupPolicy",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"podSelector": {"matchLabels": {"app": name}}, "securityGroups": {"groupIds": list(groups)}},
        }
    )


def stream(*documents):
    return "---\n" + "---\n".join(documents)


@pytest.fixture
def editor(alpha, api_for):
    return api_for("editor", alpha)


def test_import_json_body_creates_and_updates_all(alpha, editor):
    PolicyFactory(cluster=alpha, name="db", spec=policy_spec("sg-0123456789abcdef9"))
    PolicyFactory(cluster=alpha, name="cache", spec=yaml.safe_load(manifest("cache"))["spec"])
    body = {
        "cluster": "alpha",
        "manifests": stream(manifest("web"), manifest("db"), manifest("cache")),
        "changelog_message": "bulk load",
        "ticket_ref": "SEC-7",
    }
    response = editor.post(IMPORT, body, format="json")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "created": ["team-a/web"], "updated": ["team-a/db"], "unchanged": ["team-a/cache"],
    }
    web = Policy.objects.get(name="web")
    assert web.origin == "import"
    records = ChangeRecord.objects.filter(object_type__model="policy", ticket_ref="SEC-7")
    assert {(r.action, r.object_repr) for r in records} == {
        ("create", "team-a/web"), ("update", "team-a/db"),
    }
    assert {r.message for r in records} == {"bulk load"}


def test_import_raw_yaml_with_cluster_in_query(alpha, editor):
    response = editor.generic(
        "POST", f"{IMPORT}?cluster=alpha&ticket_ref=SEC-8", stream(manifest("web")),
        content_type="application/yaml",
    )
    assert response.status_code == 200, response.content
    assert response.json()["created"] == ["team-a/web"]
    assert ChangeRecord.objects.get(object_repr="team-a/web").ticket_ref == "SEC-8"


def test_import_is_all_or_nothing_with_errors_per_document(alpha, editor):
    bad = manifest("broken", groups=("sg-0123456789abcdef0", "nope"))
    body = {"cluster": "alpha", "manifests": stream(manifest("web"), bad)}
    response = editor.post(IMPORT, body, format="json")
    assert response.status_code == 400
    [error] = response.json()["documents"]
    assert (error["document"], error["path"]) == (2, "spec.securityGroups.groupIds[1]")
    assert "'nope'" in error["reason"]
    assert not Policy.objects.exists()


def test_import_of_malformed_yaml_is_400(alpha, editor):
    response = editor.post(IMPORT, {"cluster": "alpha", "manifests": "a: [1,\n"}, format="json")
    assert response.status_code == 400
    [error] = response.json()["documents"]
    assert error["reason"].startswith("not valid YAML")


def test_import_refuses_namespaces_outside_scope(alpha, api_for):
    client = api_for("editor", alpha, "team-a")
    body = {"cluster": "alpha", "manifests": stream(manifest("web"), manifest("x", namespace="team-b"))}
    response = client.post(IMPORT, body, format="json")
    assert response.status_code == 400
    [error] = response.json()["documents"]
    assert error["document"] == 2 and "team-b" in error["reason"]
    assert not Policy.objects.exists()


def test_import_by_viewer_is_403(alpha, api_for):
    body = {"cluster": "alpha", "manifests": manifest("web")}
    assert api_for("viewer", alpha).post(IMPORT, body, format="json").status_code == 403


def test_import_warns_about_many_groups(alpha, editor):
    groups = [f"sg-0123456789abcdef{i}" for i in range(6)]
    body = {"cluster": "alpha", "manifests": manifest("web", groups=groups)}
    response = editor.post(IMPORT, body, format="json")
    assert response.status_code == 200
    assert 'document 1: spec.securityGroups.groupIds: 6 groups' in response["Warning"]


def test_import_honours_idempotency_key(alpha, editor):
    body = {"cluster": "alpha", "manifests": manifest("web")}
    first = editor.post(IMPORT, body, format="json", HTTP_IDEMPOTENCY_KEY="imp-1")
    again = editor.post(IMPORT, body, format="json", HTTP_IDEMPOTENCY_KEY="imp-1")
    assert first.json() == again.json() == {"created": ["team-a/web"], "updated": [], "unchanged": []}
    assert again["Idempotent-Replayed"] == "true"


def test_an_idempotency_key_reused_for_another_cluster_is_refused_not_replayed(
    alpha, beta, api_for
):
    """The raw-YAML import names its cluster in the query string: the same key and body
    sent to another cluster is a different request."""
    client = api_for("editor")
    documents = stream(manifest("web"))
    first = client.generic("POST", f"{IMPORT}?cluster=alpha", documents,
                           content_type="application/yaml", HTTP_IDEMPOTENCY_KEY="imp-q")
    assert first.status_code == 200, first.content
    other = client.generic("POST", f"{IMPORT}?cluster=beta", documents,
                           content_type="application/yaml", HTTP_IDEMPOTENCY_KEY="imp-q")
    assert other.status_code == 422
    assert not other.has_header("Idempotent-Replayed")
    assert list(Policy.objects.values_list("cluster__name", flat=True)) == ["alpha"]


def test_export_renders_manifests_that_import_back(alpha, beta, api_for):
    PolicyFactory(cluster=alpha, name="web", spec=policy_spec("sg-0123456789abcdef0"))
    PolicyFactory(cluster=alpha, namespace="team-b", name="db", spec=policy_spec("sg-0123456789abcdef1"))
    PolicyFactory(cluster=beta, name="other")
    response = api_for("viewer").get(f"{EXPORT}?cluster=alpha")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/yaml")
    documents = list(yaml.safe_load_all(response.content.decode()))
    assert {(d["metadata"]["namespace"], d["metadata"]["name"]) for d in documents} == {
        ("team-a", "web"), ("team-b", "db"),
    }
    assert {d["apiVersion"] for d in documents} == {"vpcresources.k8s.aws/v1beta1"}
    assert {d["kind"] for d in documents} == {"SecurityGroupPolicy"}
    parsed, errors = parse_manifests(response.content.decode())
    assert errors == [] and len(parsed) == 2


def test_export_only_contains_policies_in_scope(alpha, beta, api_for):
    PolicyFactory(cluster=alpha, name="web")
    PolicyFactory(cluster=beta, name="secret")
    text = api_for("viewer", alpha).get(EXPORT).content.decode()
    names = {d["metadata"]["name"] for d in yaml.safe_load_all(text)}
    assert names == {"web"}


def test_export_anonymous_is_401(anonymous_api):
    assert anonymous_api.get(EXPORT).status_code == 401


def test_refused_import_does_not_burn_its_idempotency_key(alpha, editor):
    bad = {"cluster": "alpha", "manifests": manifest("web", groups=("nope",))}
    assert editor.post(IMPORT, bad, format="json", HTTP_IDEMPOTENCY_KEY="imp-2").status_code == 400
    good = {"cluster": "alpha", "manifests": manifest("web")}
    response = editor.post(IMPORT, good, format="json", HTTP_IDEMPOTENCY_KEY="imp-2")
    assert response.status_code == 200
    assert response.json()["created"] == ["team-a/web"]
