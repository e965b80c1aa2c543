"""The sync task reaches the cluster through the Cluster row's connection settings, and a
saved policy queues it once the transaction commits."""

import kubernetes
import pytest

from apps.inventory.models import Cluster
from apps.policies.models import Policy
from apps.policies.sync.apply import GROUP, PLURAL, VERSION
from apps.policies.tasks import sync_policies
from standins.kubernetes import KubeStandin

pytestmark = pytest.mark.django_db
SPEC = {"podSelector": {}, "securityGroups": {"groupIds": ["sg-00000001"]}}


def sync_callbacks(callbacks):
    """The on-commit callbacks that queue a policy sync (other apps register their own)."""
    return [c for c in callbacks if c.__qualname__.startswith("_queue_sync")]


@pytest.fixture
def kube():
    with KubeStandin() as standin:
        yield standin


@pytest.fixture
def cluster(kube):
    return Cluster.objects.create(name="c1", vpc_id="vpc-00000001", kube_api_url=kube.url)


def test_task_syncs_the_cluster_it_is_given(cluster, kube):
    Policy.objects.create(cluster=cluster, namespace="default", name="p", spec=SPEC)
    result = sync_policies(cluster.pk)
    assert result["counts"] == {"create-in-cluster": 1}
    custom = kubernetes.client.CustomObjectsApi(kube.api_client())
    assert custom.get_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "p")["spec"] == SPEC


def test_saving_a_policy_queues_a_sync_after_commit(cluster, kube, settings, django_capture_on_commit_callbacks):
    settings.SGPADMIN_SYNC_POLICIES_ON_SAVE = True
    settings.CELERY_TASK_ALWAYS_EAGER = True
    from sgpadmin.celery import app

    app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            Policy.objects.create(cluster=cluster, namespace="default", name="p", spec=SPEC)
    finally:
        app.conf.task_always_eager = False
    assert len(sync_callbacks(callbacks)) == 1
    custom = kubernetes.client.CustomObjectsApi(kube.api_client())
    assert custom.get_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "p")["spec"] == SPEC


def test_sync_bookkeeping_writes_do_not_queue_another_sync(cluster, settings, django_capture_on_commit_callbacks):
    settings.SGPADMIN_SYNC_POLICIES_ON_SAVE = True
    policy = Policy.objects.create(cluster=cluster, namespace="default", name="p", spec=SPEC)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        policy.cluster_resource_version = "7"
        policy.save(update_fields=["cluster_resource_version"])
    assert sync_callbacks(callbacks) == []
