"""Watches against the Kubernetes stand-in with the official client's ``Watch``.

Each watch starts from a resource version taken before the changes, so the events do not
depend on when the watch thread connects; every watch has a server-side timeout and every
thread a join timeout, so a broken stand-in fails the test instead of hanging it.
"""

import threading

import pytest
from kubernetes import client, watch
from kubernetes.client.exceptions import ApiException

from standins.kubernetes import KubeStandin

WATCH_SECONDS = 5


def pod(name, labels=None, namespace="default"):
    return {
        "metadata": {"name": name, "namespace": namespace, "labels": labels or {}},
        "spec": {"containers": [{"name": "app", "image": "busybox"}]},
    }


class Collector:
    """Runs ``Watch().stream(list_call, ...)`` on a thread until ``count`` events arrived."""

    def __init__(self, list_call, *args, count, **kwargs):
        self.events, self.error = [], None
        self._watch = watch.Watch()
        self._thread = threading.Thread(target=self._run, args=(list_call, args, kwargs, count))
        self._thread.start()

    def _run(self, list_call, args, kwargs, count):
        try:
            for event in self._watch.stream(
                list_call, *args, timeout_seconds=WATCH_SECONDS, **kwargs
            ):
                self.events.append((event["type"], event["object"]))
                if len(self.events) >= count:
                    self._watch.stop()
        except Exception as exc:  # an ApiException, or a refused reconnect after a stop
            self.error = exc

    def result(self):
        self._thread.join(WATCH_SECONDS + 5)
        assert not self._thread.is_alive(), "the watch did not end"
        return self.events

    def summary(self):
        return [(kind, obj.metadata.name) for kind, obj in self.result()]


@pytest.fixture
def core(kube_api_client):
    return client.CoreV1Api(kube_api_client)


def test_watch_sees_added_modified_deleted(core):
    since = core.list_namespaced_pod("default").metadata.resource_version
    collector = Collector(core.list_namespaced_pod, "default", resource_version=since, count=3)
    core.create_namespaced_pod("default", pod("p1"))
    core.patch_namespaced_pod("p1", "default", {"metadata": {"annotations": {"a": "b"}}})
    core.delete_namespaced_pod("p1", "default")
    events = collector.result()
    assert [(kind, obj.metadata.name) for kind, obj in events] == [
        ("ADDED", "p1"),
        ("MODIFIED", "p1"),
        ("DELETED", "p1"),
    ]
    assert events[1][1].metadata.annotations == {"a": "b"}
    versions = [int(obj.metadata.resource_version) for _, obj in events]
    assert versions == sorted(versions) and versions[0] > int(since)


def test_watch_without_resource_version_starts_with_the_current_objects(core):
    core.create_namespaced_pod("default", pod("p1"))
    core.create_namespaced_pod("default", pod("p2"))
    assert Collector(core.list_namespaced_pod, "default", count=2).summary() == [
        ("ADDED", "p1"),
        ("ADDED", "p2"),
    ]


def test_watch_from_a_resource_version_sends_only_later_changes(core):
    core.create_namespaced_pod("default", pod("old"))
    since = core.list_namespaced_pod("default").metadata.resource_version
    core.create_namespaced_pod("default", pod("new"))
    assert Collector(
        core.list_namespaced_pod, "default", resource_version=since, count=1
    ).summary() == [("ADDED", "new")]


def test_namespaced_watch_skips_other_namespaces(core):
    core.create_namespace({"metadata": {"name": "team-a"}})
    since = core.list_namespaced_pod("default").metadata.resource_version
    collector = Collector(core.list_namespaced_pod, "default", resource_version=since, count=1)
    core.create_namespaced_pod("team-a", pod("elsewhere", namespace="team-a"))
    core.create_namespaced_pod("default", pod("here"))
    assert collector.summary() == [("ADDED", "here")]


def test_cluster_wide_watch_sees_every_namespace(core):
    core.create_namespace({"metadata": {"name": "team-a"}})
    since = core.list_pod_for_all_namespaces().metadata.resource_version
    collector = Collector(core.list_pod_for_all_namespaces, resource_version=since, count=2)
    core.create_namespaced_pod("team-a", pod("a", namespace="team-a"))
    core.create_namespaced_pod("default", pod("b"))
    assert collector.summary() == [("ADDED", "a"), ("ADDED", "b")]


def test_label_selector_turns_label_changes_into_added_and_deleted(core):
    since = core.list_namespaced_pod("default").metadata.resource_version
    collector = Collector(
        core.list_namespaced_pod,
        "default",
        resource_version=since,
        label_selector="role=db",
        count=3,
    )
    core.create_namespaced_pod("default", pod("p1"))
    core.patch_namespaced_pod("p1", "default", {"metadata": {"labels": {"role": "db"}}})
    core.patch_namespaced_pod("p1", "default", {"metadata": {"annotations": {"x": "y"}}})
    core.patch_namespaced_pod("p1", "default", {"metadata": {"labels": {"role": "web"}}})
    assert collector.summary() == [("ADDED", "p1"), ("MODIFIED", "p1"), ("DELETED", "p1")]


def test_watching_nodes_and_their_status(core):
    since = core.list_node().metadata.resource_version
    collector = Collector(core.list_node, resource_version=since, count=2)
    core.create_node({"metadata": {"name": "n1"}})
    core.patch_node_status("n1", {"status": {"capacity": {"vpc.amazonaws.com/pod-eni": "9"}}})
    events = collector.result()
    assert [kind for kind, _ in events] == ["ADDED", "MODIFIED"]
    assert events[1][1].status.capacity == {"vpc.amazonaws.com/pod-eni": "9"}


def test_custom_objects_can_be_watched(kube_api_client):
    custom = client.CustomObjectsApi(kube_api_client)
    args = ("vpcresources.k8s.aws", "v1beta1", "securitygrouppolicies")
    since = custom.list_cluster_custom_object(*args)["metadata"]["resourceVersion"]
    events = []
    stream = watch.Watch().stream(
        custom.list_cluster_custom_object,
        *args,
        resource_version=since,
        timeout_seconds=WATCH_SECONDS,
    )
    custom.create_namespaced_custom_object(
        args[0], args[1], "default", args[2], {"metadata": {"name": "db"}, "spec": {}}
    )
    for event in stream:
        events.append((event["type"], event["object"]["metadata"]["name"]))
        break
    assert events == [("ADDED", "db")]


def test_watch_ends_after_timeout_seconds(core):
    stream = watch.Watch().stream(
        core.list_namespaced_pod,
        "default",
        timeout_seconds=1,
        resource_version=core.list_namespaced_pod("default").metadata.resource_version,
    )
    assert list(stream) == []


def test_too_old_resource_version_is_410_gone():
    with KubeStandin(watch_history=3) as small:
        api_client = small.api_client()
        core = client.CoreV1Api(api_client)
        since = core.list_namespaced_pod("default").metadata.resource_version
        for index in range(5):
            core.create_namespaced_pod("default", pod(f"p{index}"))
        with pytest.raises(ApiException) as excinfo:
            list(
                watch.Watch().stream(
                    core.list_namespaced_pod,
                    "default",
                    resource_version=since,
                    timeout_seconds=WATCH_SECONDS,
                )
            )
        assert excinfo.value.status == 410
        api_client.close()


def test_a_reset_expires_running_watches(kube, core):
    since = core.list_namespaced_pod("default").metadata.resource_version
    collector = Collector(core.list_namespaced_pod, "default", resource_version=since, count=5)
    kube.reset()
    collector.result()
    assert collector.error is not None and collector.error.status == 410


def test_stopping_the_standin_ends_open_watches():
    standin = KubeStandin().start()
    api_client = standin.api_client()
    core = client.CoreV1Api(api_client)
    collector = Collector(core.list_namespaced_pod, "default", count=100)
    core.create_namespaced_pod("default", pod("p1"))
    standin.stop(timeout=30)  # the server gives open handlers ~10 s to end before it stops
    assert not standin._thread.is_alive()
    # The client then ends too; how soon is urllib3's reconnect backoff, not the stand-in's.
    collector._thread.join(60)
    assert not collector._thread.is_alive()
    api_client.close()


def test_a_resource_version_from_the_future_is_504_after_a_short_wait(core):
    future = int(core.list_namespaced_pod("default").metadata.resource_version) + 1000
    with pytest.raises(ApiException) as excinfo:
        list(
            watch.Watch().stream(
                core.list_namespaced_pod,
                "default",
                resource_version=str(future),
                timeout_seconds=WATCH_SECONDS + 5,
            )
        )
    assert excinfo.value.status == 504


def test_a_resource_version_reached_while_waiting_is_served(core):
    since = int(core.list_namespaced_pod("default").metadata.resource_version)
    collector = Collector(
        core.list_namespaced_pod, "default", resource_version=str(since + 1), count=1
    )
    core.create_namespaced_pod("default", pod("p1"))  # since + 1: reached, nothing to send
    core.create_namespaced_pod("default", pod("p2"))
    assert collector.summary() == [("ADDED", "p2")]


def test_a_version_seen_on_an_earlier_standin_is_never_silently_valid(kube_api_client):
    core = client.CoreV1Api(kube_api_client)
    core.create_namespaced_pod("default", pod("before"))
    seen = core.list_namespaced_pod("default").metadata.resource_version
    with KubeStandin() as later:  # say, the API server restarted on a fresh store
        later_api = later.api_client()
        later_core = client.CoreV1Api(later_api)
        later_core.create_namespaced_pod("default", pod("after"))
        with pytest.raises(ApiException) as excinfo:
            list(
                watch.Watch().stream(
                    later_core.list_namespaced_pod,
                    "default",
                    resource_version=seen,
                    timeout_seconds=WATCH_SECONDS + 5,
                )
            )
        assert excinfo.value.status in (410, 504)
        later_api.close()
