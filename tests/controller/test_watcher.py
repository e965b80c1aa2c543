"""The cluster watcher: inventory rows, enqueued reconciles, relist on 410 and reconnects."""

import threading
import time

import pytest
from django.db import OperationalError
from kubernetes.client import CoreV1Api, CustomObjectsApi

from apps.controller.core.constants import POD_ENI
from apps.controller.inventory_sync import NodeWork, PodRelease, PodWork, PolicySyncWork
from apps.controller.watcher import KindWatcher, start_watcher, start_watchers
from apps.inventory.models import Cluster, Node, Pod, ServiceAccount
from apps.policies.models import Origin, Policy
from apps.policies.sync.apply import sync_cluster
from standins.kubernetes import KubeStandin, api_client
from tests.controller.world import build_world


def eventually(check, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"not true within {timeout}s: {check}")


class Recorder:
    def __init__(self):
        self.work, self.lock = [], threading.Lock()

    def __call__(self, cluster_id, work):
        with self.lock:
            self.work.append(work)

    def has(self, item):
        with self.lock:
            return item in self.work


@pytest.fixture
def watching(transactional_db, ec2, kube, monkeypatch):
    monkeypatch.setenv("SGPADMIN_EC2_QPS", "0")
    world = build_world(Cluster, ec2, kube.url)
    recorder = Recorder()
    stop, watchers = start_watchers([world.cluster], recorder, watch_timeout=2)
    yield world, recorder
    stop.set()
    for _, thread in watchers:
        thread.join(5)


def test_objects_become_rows_and_reconciles(watching):
    world, recorder = watching
    world.add_node(0)
    eventually(lambda: Node.objects.filter(name="node-0").exists())
    eventually(lambda: recorder.has(NodeWork("node-0")))
    pod = world.add_pod("p1", 0, labels={"app": "web"})
    uid = pod["metadata"]["uid"]
    eventually(lambda: recorder.has(PodWork("default", "p1", uid)))
    row = Pod.objects.get(uid=uid)
    assert (row.node_name, row.requests_pod_eni, row.labels) == ("node-0", True, {"app": "web"})
    world.add_pod("plain", 0, eni=False)
    eventually(lambda: Pod.objects.filter(name="plain").exists())
    assert not any(getattr(w, "name", "") == "plain" for w in recorder.work)
    world.core.create_namespaced_service_account(
        "default", {"metadata": {"name": "payer", "labels": {"team": "pay"}}})
    eventually(lambda: ServiceAccount.objects.filter(name="payer", labels={"team": "pay"}).exists())
    world.core.delete_namespaced_pod("p1", "default")
    eventually(lambda: Pod.objects.get(uid=uid).deleted_at is not None)


def test_annotated_pod_is_not_enqueued_again(watching):
    world, recorder = watching
    world.add_node(0)
    pod = world.add_pod("p1", 0)
    uid = pod["metadata"]["uid"]
    eventually(lambda: recorder.has(PodWork("default", "p1", uid)))
    recorder.work.clear()
    world.core.patch_namespaced_pod("p1", "default", {"metadata": {"annotations": {POD_ENI: "[]"}}})
    world.core.patch_namespaced_pod("p1", "default", {"metadata": {"labels": {"x": "y"}}})
    eventually(lambda: Pod.objects.get(uid=uid).labels == {"x": "y"})
    assert recorder.work == []


def test_cluster_policy_changes_queue_the_policy_sync_which_imports_them(watching):
    world, recorder = watching
    Policy.objects.create(cluster=world.cluster, namespace="default", name="ours",
                          spec={"podSelector": {}, "securityGroups": {"groupIds": ["sg-1"]}},
                          origin=Origin.API)
    world.custom.create_namespaced_custom_object(
        "vpcresources.k8s.aws", "v1beta1", "default", "securitygrouppolicies",
        {"apiVersion": "vpcresources.k8s.aws/v1beta1", "kind": "SecurityGroupPolicy",
         "metadata": {"name": "theirs"},
         "spec": {"podSelector": {}, "securityGroups": {"groupIds": ["sg-2"]}}})
    eventually(lambda: recorder.has(PolicySyncWork()))
    assert not Policy.objects.filter(name="theirs").exists()  # the watcher imports nothing
    sync_cluster(world.cluster, world.custom)
    imported = Policy.objects.get(name="theirs")
    assert imported.origin == Origin.CLUSTER and not imported.governed
    assert imported.group_ids == ["sg-2"]
    assert Policy.objects.get(name="ours").group_ids == ["sg-1"]


@pytest.fixture
def private_kube():
    """A stand-in of our own, with a short watch history (old versions answer 410)."""
    standin = KubeStandin(watch_history=3).start()
    yield standin
    standin.stop()


def test_expired_watch_relists_and_catches_up(transactional_db, private_kube):
    cluster = Cluster.objects.create(name="short", vpc_id="vpc-00000001",
                                     kube_api_url=private_kube.url)
    core = CoreV1Api(api_client(private_kube.url))
    for index in range(6):
        core.create_namespaced_service_account(
            "default", {"metadata": {"name": f"sa-{index}"}})
    stop = threading.Event()
    watcher = KindWatcher(cluster, "ServiceAccount", lambda *a: None, stop, watch_timeout=2)
    watcher.version = "1"  # long gone from a 3-event history
    thread = start_watcher(watcher)
    try:
        eventually(lambda: ServiceAccount.objects.filter(cluster=cluster).count() == 6)
        assert watcher.relists == 1
        core.delete_namespaced_service_account("sa-0", "default")
        eventually(lambda: not ServiceAccount.objects.filter(name="sa-0").exists())
    finally:
        stop.set()
        thread.join(5)


def test_lost_api_server_relists_and_applies_what_changed_meanwhile(transactional_db,
                                                                      private_kube):
    cluster = Cluster.objects.create(name="flaky", vpc_id="vpc-00000002",
                                     kube_api_url=private_kube.url)
    core = CoreV1Api(api_client(private_kube.url))
    core.create_namespaced_service_account("default", {"metadata": {"name": "old"}})
    stop = threading.Event()
    watcher = KindWatcher(cluster, "ServiceAccount", lambda *a: None, stop, watch_timeout=1)
    thread = start_watcher(watcher)
    try:
        eventually(lambda: ServiceAccount.objects.filter(name="old").exists())
        assert watcher.relists == 1
        # Every watch and list of service accounts now fails, as if the server were away.
        private_kube.inject_failure("GET", "serviceaccounts", status=503, count=1000)
        time.sleep(2.5)  # the open watch ends; the next ones fail
        core.delete_namespaced_service_account("old", "default")
        core.create_namespaced_service_account("default", {"metadata": {"name": "new"}})
        time.sleep(0.5)
        assert ServiceAccount.objects.filter(name="old").exists()  # nothing seen yet
        private_kube.clear_failures()
        eventually(lambda: ServiceAccount.objects.filter(name="new").exists(), timeout=30)
        eventually(lambda: not ServiceAccount.objects.filter(name="old").exists())
        assert watcher.relists >= 2
    finally:
        stop.set()
        thread.join(5)


def test_periodic_resync_relists_without_errors(transactional_db, private_kube):
    cluster = Cluster.objects.create(name="resync", vpc_id="vpc-00000003",
                                     kube_api_url=private_kube.url)
    stop = threading.Event()
    watcher = KindWatcher(cluster, "ServiceAccount", lambda *a: None, stop, watch_timeout=1,
                          resync_seconds=0.5)
    thread = start_watcher(watcher)
    try:
        eventually(lambda: watcher.relists >= 3)
    finally:
        stop.set()
        thread.join(5)


def _pod(name: str, eni: bool = True) -> dict:
    resources = {"limits": {POD_ENI: "1"}, "requests": {POD_ENI: "1"}} if eni else {}
    return {"metadata": {"name": name},
            "spec": {"nodeName": "node-0",
                     "containers": [{"name": "app", "image": "nginx", "resources": resources}]}}


def test_a_relist_applies_deletions_made_while_no_watcher_ran(db, private_kube):
    """A watcher that starts (after a restart) knows only what the inventory holds: objects
    deleted in between are deleted from it, and the branches of deleted ENI pods released."""
    cluster = Cluster.objects.create(name="restart", vpc_id="vpc-00000004",
                                     kube_api_url=private_kube.url)
    core = CoreV1Api(api_client(private_kube.url))
    core.create_node({"metadata": {"name": "node-0"}})
    core.create_node({"metadata": {"name": "node-1"}})
    for name in ("sa-kept", "sa-gone"):
        core.create_namespaced_service_account("default", {"metadata": {"name": name}})
    branch = core.create_namespaced_pod("default", _pod("branch")).metadata.uid
    plain = core.create_namespaced_pod("default", _pod("plain", eni=False)).metadata.uid
    kept = core.create_namespaced_pod("default", _pod("kept")).metadata.uid
    first = Recorder()
    for kind in ("Node", "ServiceAccount", "Pod"):
        KindWatcher(cluster, kind, first, threading.Event()).relist()
    assert Pod.objects.filter(deleted_at__isnull=True).count() == 3

    # The watcher is down; the cluster moves on.
    core.delete_node("node-1")
    core.delete_namespaced_service_account("sa-gone", "default")
    core.delete_namespaced_pod("branch", "default")
    core.delete_namespaced_pod("plain", "default")

    second = Recorder()
    for kind in ("Node", "ServiceAccount", "Pod"):
        KindWatcher(cluster, kind, second, threading.Event()).relist()
    assert set(ServiceAccount.objects.values_list("name", flat=True)) == {"sa-kept"}
    assert set(Pod.objects.filter(deleted_at__isnull=False).values_list("uid", flat=True)) == {
        branch, plain}
    assert Pod.objects.get(uid=kept).deleted_at is None
    assert Node.objects.get(name="node-1").deleted_at is not None
    assert Node.objects.get(name="node-0").deleted_at is None
    assert second.has(PodRelease(branch)) and second.has(NodeWork("node-1"))
    assert not second.has(PodRelease(plain)) and not second.has(PodRelease(kept))


def test_a_deletion_whose_write_failed_is_applied_by_the_next_relist(db, private_kube,
                                                                      monkeypatch):
    """The watcher's own memory of what exists changes only after the inventory has: a
    DELETED event that could not be written is not taken as done."""
    from apps.controller import inventory_sync

    cluster = Cluster.objects.create(name="failing", vpc_id="vpc-00000005",
                                     kube_api_url=private_kube.url)
    core = CoreV1Api(api_client(private_kube.url))
    core.create_namespaced_service_account("default", {"metadata": {"name": "sa-0"}})
    watcher = KindWatcher(cluster, "ServiceAccount", Recorder(), threading.Event())
    watcher.relist()
    deleted = core.api_client.sanitize_for_serialization(
        core.delete_namespaced_service_account("sa-0", "default"))

    def locked(*args):
        raise OperationalError("the database went away")

    with monkeypatch.context() as patch:
        patch.setattr(watcher, "apply", locked)
        with pytest.raises(OperationalError):
            watcher.handle("DELETED", deleted)
    assert ("default", "sa-0") in watcher.known
    assert ServiceAccount.objects.filter(name="sa-0").exists()
    watcher.relist()
    assert not ServiceAccount.objects.filter(name="sa-0").exists()
    assert ("default", "sa-0") not in watcher.known
    assert inventory_sync.stored_keys(cluster, "ServiceAccount") == set()


def test_a_relist_enqueues_each_reconcile_once(db, private_kube):
    cluster = Cluster.objects.create(name="policies", vpc_id="vpc-00000006",
                                     kube_api_url=private_kube.url)
    custom = CustomObjectsApi(api_client(private_kube.url))
    for name in ("a", "b", "c"):
        custom.create_namespaced_custom_object(
            "vpcresources.k8s.aws", "v1beta1", "default", "securitygrouppolicies",
            {"apiVersion": "vpcresources.k8s.aws/v1beta1", "kind": "SecurityGroupPolicy",
             "metadata": {"name": name},
             "spec": {"podSelector": {}, "securityGroups": {"groupIds": ["sg-1"]}}})
    recorder = Recorder()
    KindWatcher(cluster, "SecurityGroupPolicy", recorder, threading.Event()).relist()
    assert recorder.work == [PolicySyncWork()]


def test_a_relist_queues_the_policy_sync_for_policies_the_cluster_no_longer_lists(
        db, private_kube):
    cluster = Cluster.objects.create(name="pushed", vpc_id="vpc-00000007",
                                     kube_api_url=private_kube.url)
    Policy.objects.create(cluster=cluster, namespace="default", name="ours",
                          spec={"podSelector": {}, "securityGroups": {"groupIds": ["sg-1"]}},
                          origin=Origin.API)
    recorder = Recorder()
    KindWatcher(cluster, "SecurityGroupPolicy", recorder, threading.Event()).relist()
    assert recorder.work == [PolicySyncWork()]
