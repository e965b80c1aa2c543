import contextlib
import json
import threading
import time

import pytest
from sgp_node_agent import errors
from sgp_node_agent.kube import PodSource

ANNOTATION = json.dumps(
    [
        {
            "eniId": "eni-1",
            "ifAddress": "02:00:00:00:05:05",
            "privateIp": "10.0.1.20",
            "ipv6Addr": "",
            "vlanID": 5,
            "subnetCidr": "10.0.1.0/24",
            "subnetV6Cidr": "",
            "AssociationId": "assoc-1",
        }
    ]
)


@pytest.fixture
def pods(kube):
    return PodSource(kube.api_client())


def test_branch_eni_is_read_from_the_annotation(kube, pods):
    kube.create_pod("ns-a", "green", "node-1", ANNOTATION, uid="u-green")
    branch = pods.wait_for_branch("ns-a", "green", "u-green", timeout=1)
    assert (branch.vlan_id, branch.mac, branch.ip, branch.gateway) == (
        5,
        "02:00:00:00:05:05",
        "10.0.1.20",
        "10.0.1.1",
    )


@contextlib.contextmanager
def annotated_after(kube, namespace: str, name: str, seconds: float):
    """The controller writes the pod's annotation ``seconds`` into the block."""
    timer = threading.Timer(seconds, kube.annotate_pod, (namespace, name, ANNOTATION))
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


@pytest.mark.parametrize("cache", [False, True], ids=["no-cache", "cache-not-watching"])
def test_plugin_waits_for_the_annotation_while_the_controller_writes_it(kube, cache):
    """Without a live pod watch, the wait reads the API until the annotation is there."""
    from sgp_node_agent.kube import PodCache

    source = PodSource(
        kube.api_client(), cache=PodCache(kube.api_client(), "node-1") if cache else None
    )
    namespace = f"ns-late-{int(cache)}"  # the emulator is shared by the module's tests
    kube.create_pod(namespace, "late", "node-1", None, uid="u-late")
    with annotated_after(kube, namespace, "late", 0.4):
        assert source.wait_for_branch(namespace, "late", "u-late", timeout=5).vlan_id == 5


def test_missing_annotation_times_out_with_try_again_later(kube, pods):
    kube.create_pod("ns-a", "never", "node-1", None)
    with pytest.raises(errors.CniError) as caught:
        pods.wait_for_branch("ns-a", "never", "", timeout=0.5)
    assert caught.value.code == errors.TRY_AGAIN_LATER
    assert "not written yet" in caught.value.details


def test_unknown_pod_times_out_too(pods):
    with pytest.raises(errors.CniError) as caught:
        pods.wait_for_branch("ns-a", "ghost", "", timeout=0.3)
    assert caught.value.code == errors.TRY_AGAIN_LATER


def test_pod_uid_mismatch_fails_at_once(kube, pods):
    kube.create_pod("ns-b", "green", "node-1", ANNOTATION, uid="u-new")
    with pytest.raises(errors.CniError, match="has UID u-new"):
        pods.wait_for_branch("ns-b", "green", "u-old", timeout=5)


def test_pod_that_does_not_request_a_branch_fails_at_once(kube, pods):
    kube.create_pod("ns-b", "plain", "node-1", None, requests_pod_eni=False)
    with pytest.raises(errors.CniError, match="does not request"):
        pods.wait_for_branch("ns-b", "plain", "", timeout=5)


def test_broken_annotation_is_reported_not_retried(kube, pods):
    kube.create_pod("ns-b", "broken", "node-1", json.dumps([{"vlanId": 0}]))
    with pytest.raises(errors.CniError) as caught:
        pods.wait_for_branch("ns-b", "broken", "", timeout=5)
    assert caught.value.code == errors.OTHER and "outside 1..4094" in caught.value.details


def test_pods_on_node_are_filtered_by_node_name(kube, pods):
    kube.create_pod("ns-c", "here", "node-x", None)
    kube.create_pod("ns-c", "there", "node-y", None)
    names = {p["metadata"]["name"] for p in pods.pods_on_node("node-x")}
    assert names == {"here"}


def test_pod_cache_serves_adds_without_a_get(kube):
    from sgp_node_agent.kube import PodCache

    cache = PodCache(kube.api_client(), "node-cache", watch_seconds=5).start()
    try:
        assert cache.synced.wait(5)
        kube.create_pod("ns-d", "cached", "node-cache", None, uid="u-cached")
        kube.annotate_pod("ns-d", "cached", ANNOTATION)
        kube.create_pod("ns-d", "elsewhere", "node-other", ANNOTATION)
        deadline = time.monotonic() + 5
        while "vpc.amazonaws.com/pod-eni" not in (
            ((cache.get("ns-d", "cached") or {}).get("metadata") or {}).get("annotations") or {}
        ):
            assert time.monotonic() < deadline, "the watch did not deliver the annotation"
            time.sleep(0.05)
        assert cache.get("ns-d", "elsewhere") is None
        source = PodSource(kube.api_client(), cache=cache)
        source.get_pod = None  # any GET would now fail
        assert source.wait_for_branch("ns-d", "cached", "u-cached", timeout=1).vlan_id == 5
        kube.delete_pod("ns-d", "cached")
        deadline = time.monotonic() + 5
        while cache.get("ns-d", "cached") is not None:
            assert time.monotonic() < deadline, "the watch did not deliver the deletion"
            time.sleep(0.05)
    finally:
        cache.stop()


def test_cached_pod_with_another_uid_is_read_again(kube):
    from sgp_node_agent.kube import PodCache

    cache = PodCache(kube.api_client(), "node-uid")
    cache.pods[("ns-e", "db-0")] = {
        "metadata": {"uid": "old", "annotations": {"vpc.amazonaws.com/pod-eni": ANNOTATION}}
    }
    kube.create_pod(
        "ns-e", "db-0", "node-uid", ANNOTATION.replace('"vlanID": 5', '"vlanID": 6'), uid="new"
    )
    source = PodSource(kube.api_client(), cache=cache)
    assert source.wait_for_branch("ns-e", "db-0", "new", timeout=1).vlan_id == 6


def test_a_waiting_add_watches_the_cache_instead_of_polling_the_api(kube):
    """While the cache's watch is live, an ADD waiting for its annotation reads the pod once
    and then waits for the watch to bring the annotation. (The watch itself delivering
    annotations: test_pod_cache_serves_adds_without_a_get.)"""
    from sgp_node_agent.kube import PodCache

    cache = PodCache(kube.api_client(), "node-wait")
    cache.live.set()  # as if listed and watching
    kube.create_pod("ns-f", "slow", "node-wait", None, uid="u-slow")
    source = PodSource(kube.api_client(), cache=cache)
    reads = []
    original = source.get_pod
    source.get_pod = lambda *args: reads.append(args) or original(*args)

    def watch_delivers_the_annotation():
        annotated = original("ns-f", "slow")
        annotated["metadata"]["annotations"] = {"vpc.amazonaws.com/pod-eni": ANNOTATION}
        cache.pods[("ns-f", "slow")] = annotated
        cache._updated()

    timer = threading.Timer(0.4, watch_delivers_the_annotation)
    timer.start()
    try:
        branch = source.wait_for_branch(
            "ns-f", "slow", "u-slow", timeout=20, interval_with_cache=10
        )
    finally:
        timer.cancel()
    assert branch.vlan_id == 5
    assert reads == [("ns-f", "slow")]
