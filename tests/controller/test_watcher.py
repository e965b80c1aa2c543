"""The cluster watcher: inventory rows, enqueued reconciles, relist on 410 and reconnects."""

import threading
import time

import pytest
from django.db import OperationalError
from kubernetes.client import CoreV1Api

from apps.controller.core.constants import POD_ENI
from apps.controller.inventory_sync import NodeWork, PodWork, PolicySyncWork
from apps.controller.watcher import KindWatcher, start_watcher, start_watchers
from apps.inventory.models import Cluster, Node, Pod, ServiceAccount
from apps.policies.models import Origin, Policy
from apps.policies.sync.apply import sync_cluster
from standins.kubernetes import KubeStandin, api_client
from tests.controller.world import build_world


def eventually(check, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = check()
        except OperationalError:
            # SQLite's in-memory test database is shared between this thread and the watcher's
            # with table locks: a read that meets the watcher's write is refused, not delayed.
            result = None
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
