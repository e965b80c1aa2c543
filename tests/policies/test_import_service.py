"""import_policies: create-or-update in one transaction (apps/policies/services.py)."""

from __future__ import annotations

import pytest
import yaml
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisDjangoTestCase

from apps.audit.models import ChangeRecord
from apps.core.context import ChangeContext, change_scope
from apps.policies.models import Origin, Policy
from apps.policies.services import ImportOutcome, import_policies
from apps.policies.yaml_io import (
    ParsedPolicy,
    manifest_for,
    parse_manifests,
    render_manifests,
)
from tests.factories import ClusterFactory

from .spec_strategies import valid_specs

pytestmark = pytest.mark.django_db

SPEC = {
    "podSelector": {"matchLabels": {"role": "db"}},
    "securityGroups": {"groupIds": ["sg-0123abcd"]},
}
OTHER_SPEC = {"serviceAccountSelector": {}, "securityGroups": {"groupIds": ["sg-0123abce"]}}


def manifest(namespace: str, name: str, spec: dict) -> str:
    return yaml.safe_dump(manifest_for(namespace, name, spec), sort_keys=False)


def parsed(*docs: tuple[str, str, dict]):
    policies, errors = parse_manifests("---\n".join(manifest(*doc) for doc in docs))
    assert errors == []
    return policies


def test_creates_policies_with_the_import_origin():
    cluster = ClusterFactory()
    result = import_policies(cluster, parsed(("payments", "db", SPEC), ("web", "all", OTHER_SPEC)))
    assert [(p.namespace, p.name, p.import_outcome) for p in result] == [
        ("payments", "db", ImportOutcome.CREATED),
        ("web", "all", ImportOutcome.CREATED),
    ]
    stored = Policy.objects.get(cluster=cluster, namespace="payments", name="db")
    assert stored.spec == SPEC
    assert stored.origin == Origin.IMPORT
    assert stored.version == 1


def test_updates_changed_policies_and_leaves_identical_ones_alone():
    cluster = ClusterFactory()
    import_policies(cluster, parsed(("payments", "db", SPEC), ("web", "all", OTHER_SPEC)))
    records_before = ChangeRecord.objects.count()
    result = import_policies(
        cluster, parsed(("payments", "db", OTHER_SPEC), ("web", "all", OTHER_SPEC))
    )
    assert [p.import_outcome for p in result] == [ImportOutcome.UPDATED, ImportOutcome.UNCHANGED]
    db_policy = Policy.objects.get(namespace="payments", name="db")
    assert db_policy.spec == OTHER_SPEC
    assert db_policy.version == 2
    assert Policy.objects.get(namespace="web", name="all").version == 1
    assert ChangeRecord.objects.count() == records_before + 1


def test_same_name_in_another_cluster_is_another_policy():
    first, second = ClusterFactory(), ClusterFactory()
    import_policies(first, parsed(("payments", "db", SPEC)))
    [created] = import_policies(second, parsed(("payments", "db", OTHER_SPEC)))
    assert created.import_outcome == ImportOutcome.CREATED
    assert Policy.objects.get(cluster=first).spec == SPEC


def test_all_or_nothing_when_a_document_is_invalid():
    cluster = ClusterFactory()
    good = parsed(("payments", "db", SPEC))[0]
    bad = type(good)(namespace="payments", name="bad", spec={"podSelector": {}}, document=2)
    with pytest.raises(ValidationError) as caught:
        import_policies(cluster, [good, bad])
    assert "documents[1].spec.securityGroups" in caught.value.message_dict
    assert not Policy.objects.exists()


def test_all_or_nothing_when_two_documents_name_one_policy():
    cluster = ClusterFactory()
    good = parsed(("payments", "db", SPEC))[0]
    with pytest.raises(ValidationError) as caught:
        import_policies(cluster, [good, good])
    assert "is also document 0" in caught.value.message_dict["documents[1].name"][0]
    assert not Policy.objects.exists()


def test_all_or_nothing_when_the_database_refuses_a_write(monkeypatch):
    cluster = ClusterFactory()
    import_policies(cluster, parsed(("payments", "db", SPEC)))
    original_save = Policy.save

    def failing_save(self, *args, **kwargs):
        if self.name == "breaks":
            raise RuntimeError("database went away")
        return original_save(self, *args, **kwargs)

    monkeypatch.setattr(Policy, "save", failing_save)
    with pytest.raises(RuntimeError):
        import_policies(
            cluster, parsed(("payments", "db", OTHER_SPEC), ("payments", "breaks", SPEC))
        )
    assert Policy.objects.get(name="db").spec == SPEC
    assert not Policy.objects.filter(name="breaks").exists()


def test_cluster_origin_is_observed_not_governed():
    cluster = ClusterFactory()
    [policy] = import_policies(cluster, parsed(("payments", "db", SPEC)), origin=Origin.CLUSTER)
    policy.refresh_from_db()
    assert (policy.origin, policy.governed) == (Origin.CLUSTER, False)


def test_an_import_run_as_a_background_job_governs_the_observed_policy_it_changes():
    """The UI's YAML import runs in the worker context; the change is still a person's, so
    the next sync must not copy the cluster's spec back over it."""
    cluster = ClusterFactory()
    import_policies(cluster, parsed(("payments", "db", SPEC)), origin=Origin.CLUSTER)
    with change_scope(context=ChangeContext.WORKER, actor_name="job"):
        [changed] = import_policies(cluster, parsed(("payments", "db", OTHER_SPEC)))
    changed.refresh_from_db()
    assert (changed.spec, changed.governed) == (OTHER_SPEC, True)


def test_import_through_the_api_is_audited_under_one_request():
    cluster = ClusterFactory()
    with change_scope(context=ChangeContext.API, actor_name="ticket-bot") as scope:
        import_policies(cluster, parsed(("payments", "db", SPEC), ("web", "all", OTHER_SPEC)))
    records = ChangeRecord.objects.filter(request_id=scope.request_id)
    assert sorted(r.object_repr for r in records) == ["payments/db", "web/all"]
    assert {r.action for r in records} == {ChangeRecord.Action.CREATE}


def test_unknown_origin_is_refused():
    with pytest.raises(ValueError, match="origin"):
        import_policies(ClusterFactory(), [], origin="fax")


def test_export_then_import_changes_nothing():
    cluster = ClusterFactory()
    import_policies(cluster, parsed(("payments", "db", SPEC), ("web", "all", OTHER_SPEC)))
    exported = render_manifests(Policy.objects.filter(cluster=cluster))
    policies, errors = parse_manifests(exported)
    assert errors == []
    result = import_policies(cluster, policies)
    assert {p.import_outcome for p in result} == {ImportOutcome.UNCHANGED}
    assert render_manifests(Policy.objects.filter(cluster=cluster)) == exported


class DatabaseRoundTrip(HypothesisDjangoTestCase):
    """Export -> import through the database (JSON on SQLite, jsonb on PostgreSQL, which
    reorders keys) changes nothing, for generated valid specs."""

    @settings(max_examples=30, deadline=None)
    @given(st.lists(valid_specs(), min_size=1, max_size=3))
    def test_property_export_import_through_the_database(self, specs):
        cluster = ClusterFactory(name="round-trip")
        documents = [
            ParsedPolicy(namespace="shop", name=f"policy-{i}", spec=spec, document=i + 1)
            for i, spec in enumerate(specs)
        ]
        import_policies(cluster, documents)
        exported = render_manifests(Policy.objects.filter(cluster=cluster).order_by("name"))
        policies, errors = parse_manifests(exported)
        assert errors == []
        assert [(p.name, p.spec) for p in policies] == [(d.name, d.spec) for d in documents]
        again = import_policies(cluster, policies)
        assert {p.import_outcome for p in again} == {ImportOutcome.UNCHANGED}
        assert render_manifests(Policy.objects.filter(cluster=cluster).order_by("name")) == exported
