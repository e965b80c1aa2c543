"""Policy sync against the Kubernetes stand-in, through the official client."""

import kubernetes
import pytest
from django.contrib.contenttypes.models import ContentType

from apps.audit.models import ChangeRecord
from apps.core.context import ChangeContext, change_scope
from apps.inventory.models import Cluster
from apps.policies.models import Origin, Policy
from apps.policies.sync.apply import GROUP, PLURAL, VERSION, sync_cluster
from apps.policies.sync.plan import MANAGED_BY_LABEL, MANAGED_BY_VALUE
from standins.kubernetes import KubeStandin

pytestmark = pytest.mark.django_db

SPEC = {
    "serviceAccountSelector": {"matchLabels": {"role": "backend"}},
    "securityGroups": {"groupIds": ["sg-0123456789abcdef0", "sg-00000001"]},
}
OTHER = {"podSelector": {}, "securityGroups": {"groupIds": ["sg-00000002"]}}


@pytest.fixture
def custom_api():
    with KubeStandin() as kube:
        yield kubernetes.client.CustomObjectsApi(kube.api_client())


@pytest.fixture
def cluster():
    return Cluster.objects.create(name="sgp-cluster", vpc_id="vpc-0123456789abcdef0")


def cluster_object(custom_api, namespace, name):
    return custom_api.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name)


def foreign(namespace, name, spec):
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "SecurityGroupPolicy",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def test_governed_policy_appears_in_the_cluster_byte_for_byte(cluster, custom_api):
    policy = Policy.objects.create(
        cluster=cluster, namespace="default", name="my-sg-policy", spec=SPEC
    )
    report = sync_cluster(cluster, custom_api)
    obj = cluster_object(custom_api, "default", "my-sg-policy")
    assert obj["spec"] == SPEC
    assert obj["kind"] == "SecurityGroupPolicy"
    assert obj["metadata"]["labels"][MANAGED_BY_LABEL] == MANAGED_BY_VALUE
    assert report.counts == {"create-in-cluster": 1}
    policy.refresh_from_db()
    assert policy.cluster_synced_version == policy.version
    assert policy.cluster_resource_version == str(obj["metadata"]["resourceVersion"])
    assert sync_cluster(cluster, custom_api).counts == {}


def test_update_and_delete_follow_the_database(cluster, custom_api):
    policy = Policy.objects.create(cluster=cluster, namespace="default", name="p", spec=SPEC)
    sync_cluster(cluster, custom_api)
    policy.refresh_from_db()
    policy.spec = OTHER
    policy.save()
    assert sync_cluster(cluster, custom_api).counts == {"update-in-cluster": 1}
    assert cluster_object(custom_api, "default", "p")["spec"] == OTHER
    policy.delete()
    assert sync_cluster(cluster, custom_api).counts == {"delete-from-cluster": 1}
    with pytest.raises(kubernetes.client.ApiException) as gone:
        cluster_object(custom_api, "default", "p")
    assert gone.value.status == 404


def test_foreign_policy_is_imported_with_an_audit_record(cluster, custom_api):
    custom_api.create_namespaced_custom_object(
        GROUP, VERSION, "team-a", PLURAL, foreign("team-a", "legacy", OTHER)
    )
    report = sync_cluster(cluster, custom_api)
    assert report.counts == {"import-from-cluster": 1}
    policy = Policy.objects.get(cluster=cluster, namespace="team-a", name="legacy")
    assert (policy.origin, policy.governed, policy.spec) == (Origin.CLUSTER, False, OTHER)
    record = ChangeRecord.objects.get(
        object_type=ContentType.objects.get_for_model(Policy),
        object_id=str(policy.pk),
        action="create",
    )
    assert (record.context, record.actor_name) == ("worker", "policy-sync")
    # The foreign object is not taken over or deleted by a second pass.
    assert sync_cluster(cluster, custom_api).counts == {}
    assert MANAGED_BY_LABEL not in (
        cluster_object(custom_api, "team-a", "legacy")["metadata"].get("labels") or {}
    )


def test_out_of_band_edit_is_restored_and_recorded_as_drift(cluster, custom_api):
    Policy.objects.create(cluster=cluster, namespace="default", name="p", spec=SPEC)
    sync_cluster(cluster, custom_api)
    obj = cluster_object(custom_api, "default", "p")
    obj["spec"] = OTHER
    custom_api.replace_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "p", obj)

    report = sync_cluster(cluster, custom_api, mode="restore")

    assert len(report.drifts) == 1
    assert cluster_object(custom_api, "default", "p")["spec"] == SPEC
    drift = ChangeRecord.objects.filter(message__startswith="drift:").get()
    assert drift.before == {"cluster_spec": OTHER}
    assert drift.after == {"cluster_spec": SPEC}


def test_out_of_band_edit_is_adopted_in_adopt_mode(cluster, custom_api):
    policy = Policy.objects.create(cluster=cluster, namespace="default", name="p", spec=SPEC)
    sync_cluster(cluster, custom_api)
    obj = cluster_object(custom_api, "default", "p")
    obj["spec"] = OTHER
    custom_api.replace_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "p", obj)

    report = sync_cluster(cluster, custom_api, mode="adopt")

    assert len(report.drifts) == 1
    policy.refresh_from_db()
    assert policy.spec == OTHER
    assert cluster_object(custom_api, "default", "p")["spec"] == OTHER
    assert ChangeRecord.objects.filter(
        object_id=str(policy.pk), message__startswith="drift:"
    ).exists()
    assert sync_cluster(cluster, custom_api, mode="adopt").counts == {}


def test_an_edit_through_the_api_makes_an_observed_policy_governed(cluster, custom_api):
    custom_api.create_namespaced_custom_object(
        GROUP, VERSION, "team-a", PLURAL, foreign("team-a", "legacy", OTHER)
    )
    sync_cluster(cluster, custom_api)
    policy = Policy.objects.get(name="legacy")
    with change_scope(context=ChangeContext.API, actor_name="ticketing"):
        policy.spec = SPEC
        policy.save()
    assert policy.governed
    sync_cluster(cluster, custom_api)
    obj = cluster_object(custom_api, "team-a", "legacy")
    assert obj["spec"] == SPEC
    assert obj["metadata"]["labels"][MANAGED_BY_LABEL] == MANAGED_BY_VALUE


def test_a_person_editing_during_a_pass_is_not_written_over_by_it(
    cluster, custom_api, monkeypatch
):
    """The pass plans from rows it read at its start; a row edited since is left to the
    next pass, which sees the edit (and, the policy now governed, pushes it)."""
    from apps.policies.sync import apply

    custom_api.create_namespaced_custom_object(
        GROUP, VERSION, "team-a", PLURAL, foreign("team-a", "legacy", OTHER)
    )
    sync_cluster(cluster, custom_api)
    changed_in_cluster = {**OTHER, "securityGroups": {"groupIds": ["sg-00000003"]}}
    obj = cluster_object(custom_api, "team-a", "legacy")
    custom_api.replace_namespaced_custom_object(
        GROUP, VERSION, "team-a", PLURAL, "legacy", {**obj, "spec": changed_in_cluster}
    )
    original = apply.read_database

    def read_then_a_person_edits(cluster_row):
        snapshot = original(cluster_row)
        with change_scope(context=ChangeContext.UI, actor_name="alice"):
            policy = Policy.objects.get(name="legacy")
            policy.spec = SPEC
            policy.save()
        return snapshot

    monkeypatch.setattr(apply, "read_database", read_then_a_person_edits)
    report = sync_cluster(cluster, custom_api)
    assert report.counts == {} and report.skipped == [
        "update-from-cluster team-a/legacy: changed meanwhile"
    ]
    policy = Policy.objects.get(name="legacy")
    assert (policy.spec, policy.governed) == (SPEC, True)
    monkeypatch.undo()
    sync_cluster(cluster, custom_api)
    assert cluster_object(custom_api, "team-a", "legacy")["spec"] == SPEC
