"""ADD, DEL and CHECK in the netns lab: idempotence, teardown, the VLAN-reuse guard, bounded waits
and concurrency. Pods are created by running sgp-cni exactly as a container runtime does."""

from __future__ import annotations

import time
import uuid

import pytest
from harness import annotation
from lab import RDS_IP, RDS_PORT, connect, sh
from netns_support import Pods, drop_netns, node_state, settled_state

pytestmark = pytest.mark.netns


@pytest.mark.parametrize("mode", ["strict", "standard"])
def test_after_del_nothing_of_the_pod_remains_and_del_again_is_a_no_op(
    lab, kube, node_factory, tmp_path, mode
):
    pods = Pods(lab, kube, node_factory(mode))
    before = node_state(lab)
    pod = pods.add("green", 5, "10.0.1.20")
    host_veth = pod["result"]["interfaces"][0]["name"]
    assert node_state(lab) != before
    assert pods.delete(pod) == (0, None)
    pods.node.settle()  # the daemon deletes the branch link after answering the DEL
    after = node_state(lab)
    assert (after["rules"], after["routes"]) == (before["rules"], before["routes"])
    assert sorted(after["links"]) == sorted(
        [*before["links"], host_veth]
    )  # until the runtime drops the netns
    assert not list((tmp_path / "pods").glob("*.json"))
    assert pods.delete(pod) == (0, None)
    drop_netns(pod["netns"])
    assert pods.delete(pod, netns="") == (0, None)
    assert settled_state(lab, before) == before


def test_add_twice_equals_add_once(lab, kube, node_factory):
    pods = Pods(lab, kube, node_factory("strict"))
    pod = pods.add("green", 5, "10.0.1.20")
    once = node_state(lab)
    code, again = pods.node.cni(
        "ADD", pod["container_id"], pod["netns"], (pods.namespace, "green", pod["uid"])
    )
    assert code == 0
    assert again["interfaces"][0] == pod["result"]["interfaces"][0]  # same host veth, same MAC
    assert again["interfaces"][2:] == pod["result"]["interfaces"][2:]
    assert again["ips"] == pod["result"]["ips"]
    assert node_state(lab) == once
    assert connect(pod["netns"], RDS_IP, RDS_PORT) == "10.0.1.20"


def test_stale_del_after_vlan_reuse_leaves_the_live_pod_working(lab, kube, node_factory):
    """aws/amazon-vpc-cni-k8s#3270: a StatefulSet pod is force-deleted, re-created under the same
    name and given the same VLAN id; the old sandbox's DEL arrives late."""
    pods = Pods(lab, kube, node_factory("strict"))
    old = pods.add("db0-old", 6, "10.0.1.30", name="db-0")
    drop_netns(old["netns"])  # the runtime dropped the sandbox (force delete)
    kube.delete_pod(pods.namespace, "db-0")
    new = pods.add("db0-new", 6, "10.0.1.31", name="db-0")
    assert connect(new["netns"], RDS_IP, RDS_PORT) == "10.0.1.31"
    live = node_state(lab)
    assert pods.delete(old, netns="") == (0, None)  # the late DEL, with the old prevResult
    assert node_state(lab) == live
    assert connect(new["netns"], RDS_IP, RDS_PORT) == "10.0.1.31"
    assert pods.delete(new) == (0, None)
    assert not any(
        "vlan.eth.6" in line or "lookup 106" in line for line in node_state(lab)["rules"]
    )


def test_missing_annotation_fails_after_a_bounded_wait(lab, kube, node_factory):
    node = node_factory("strict", annotation_timeout=1.0)
    uid = str(uuid.uuid4())
    kube.create_pod(f"ns-{lab.tag}", "waiting", lab.node, None, uid=uid)
    before = node_state(lab)
    started = time.monotonic()
    code, out = node.cni(
        "ADD", "c-waiting", lab.pod_netns("waiting"), (f"ns-{lab.tag}", "waiting", uid)
    )
    elapsed = time.monotonic() - started
    assert code == 1 and out["code"] == 11
    assert "vpc.amazonaws.com/pod-eni" in out["details"]
    assert 1.0 <= elapsed < 5
    assert node_state(lab) == before


def test_check_passes_when_plumbed_and_names_what_is_missing(lab, kube, node_factory):
    pods = Pods(lab, kube, node_factory("strict"))
    pod = pods.add("green", 5, "10.0.1.20")
    args = (pods.namespace, "green", pod["uid"])
    code, out = pods.node.cni(
        "CHECK", pod["container_id"], pod["netns"], args, prev_result=pod["result"]
    )
    assert (code, out) == (0, None), out
    sh("ip", "-n", lab.node, "rule", "del", "pref", "10", "iif", "vlan.eth.5", "table", "105")
    code, out = pods.node.cni(
        "CHECK", pod["container_id"], pod["netns"], args, prev_result=pod["result"]
    )
    assert code == 1 and out["code"] == 999
    assert "pref 10 iif vlan.eth.5 lookup 105 is missing" in out["details"]


def test_late_del_of_a_force_deleted_pod_on_another_vlan_removes_only_its_leftovers(
    lab, kube, node_factory
):
    pods = Pods(lab, kube, node_factory("strict"))
    old = pods.add("db0-old", 5, "10.0.1.30", name="db-0")
    drop_netns(old["netns"])
    kube.delete_pod(pods.namespace, "db-0")
    new = pods.add("db0-new", 6, "10.0.1.31", name="db-0")
    assert "vlan.eth.5" in node_state(lab)["links"]  # the old branch link leaked until the DEL
    assert pods.delete(old, netns="") == (0, None)
    pods.node.settle()
    state = node_state(lab)
    assert "vlan.eth.5" not in state["links"] and "vlan.eth.6" in state["links"]
    assert not any(link.startswith("vlan.del.") for link in state["links"])
    assert not any("lookup 105" in rule for rule in state["rules"])
    assert sum("lookup 106" in rule for rule in state["rules"]) == 2
    assert connect(new["netns"], RDS_IP, RDS_PORT) == "10.0.1.31"


def test_del_from_prev_result_alone_when_the_records_are_lost(lab, kube, node_factory, tmp_path):
    node = node_factory("strict")
    pods = Pods(lab, kube, node)
    before = node_state(lab)
    pod = pods.add("green", 5, "10.0.1.20")
    for path in (tmp_path / "pods").glob("*.json"):
        path.unlink()
    node.agent.store.reload()
    assert pods.delete(pod) == (0, None)
    node.settle()
    drop_netns(pod["netns"])
    assert settled_state(lab, before) == before


def test_check_without_prev_result_is_an_invalid_configuration(lab, kube, node_factory):
    pods = Pods(lab, kube, node_factory("strict"))
    pod = pods.add("green", 5, "10.0.1.20")
    code, out = pods.node.cni(
        "CHECK", pod["container_id"], pod["netns"], (pods.namespace, "green", pod["uid"])
    )
    assert code == 1 and out["code"] == 7


def test_concurrent_adds_and_dels_from_the_runtime_are_serialised_safely(lab, kube, node_factory):
    from concurrent.futures import ThreadPoolExecutor

    node = node_factory("strict")
    pods = Pods(lab, kube, node)
    before = node_state(lab)
    specs = []
    for index in range(8):
        vlan_id, ip = 10 + index, f"10.0.1.{40 + index}"
        mac = f"02:00:00:00:{vlan_id:02x}:{40 + index:02x}"
        uid = str(uuid.uuid4())
        kube.create_pod(
            pods.namespace, f"par-{index}", lab.node, annotation(vlan_id, mac, ip), uid=uid
        )
        lab.register_branch(mac, ip)
        specs.append(
            (
                f"c-par-{index}",
                lab.pod_netns(f"par{index}"),
                (pods.namespace, f"par-{index}", uid),
                ip,
            )
        )
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda s: node.cni("ADD", s[0], s[1], s[2]), specs))
    assert [code for code, _ in results] == [0] * 8, results
    state = node_state(lab)
    assert sum(link.startswith("vlan.eth.") for link in state["links"]) == 8
    assert sum(rule.startswith("10:") for rule in state["rules"]) == 16
    assert all(connect(s[1], RDS_IP, RDS_PORT) == s[3] for s in specs[::3])
    with ThreadPoolExecutor(max_workers=8) as pool:
        dels = list(
            pool.map(
                lambda sr: node.cni("DEL", sr[0][0], sr[0][1], sr[0][2], prev_result=sr[1][1]),
                zip(specs, results, strict=True),
            )
        )
    assert dels == [(0, None)] * 8
    node.settle()
    for spec in specs:
        drop_netns(spec[1])
    assert settled_state(lab, before) == before


def test_del_answers_before_the_link_is_deleted_and_an_add_of_its_vlan_waits_for_it(
    lab, kube, node_factory, monkeypatch
):
    """DEL removes rules and routes, renames vlan.eth.N to vlan.del.N and replies; the daemon
    deletes the link afterwards. A new pod given the same VLAN id (another branch ENI, another
    MAC) waits for that deletion, then gets a link of its own."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    node = node_factory("strict")
    pods = Pods(lab, kube, node)
    old = pods.add("old", 5, "10.0.1.20")
    reaper = node.agent.reaper
    release = threading.Event()
    delete_group = reaper._delete_group
    monkeypatch.setattr(reaper, "_delete_group", lambda: (release.wait(30), delete_group()))
    assert pods.delete(old) == (0, None)
    state = node_state(lab)
    assert "vlan.del.5" in state["links"] and "vlan.eth.5" not in state["links"]
    assert not any("lookup 105" in rule or "10.0.1.20" in rule for rule in state["rules"])
    assert not any("10.0.1.20" in route for route in state["routes"])
    report = node.agent.repair_and_report()
    assert report["pendingLinkDeletions"] == ["vlan.del.5"]
    assert "link vlan.del.5" not in report["removedLeftovers"]
    with ThreadPoolExecutor(max_workers=1) as pool:
        adding = pool.submit(pods.add, "new", 5, "10.0.1.21", "02:00:00:00:05:99")
        release.set()
        new = adding.result(timeout=60)
    assert connect(new["netns"], RDS_IP, RDS_PORT) == "10.0.1.21"
    node.settle()
    state = node_state(lab)
    assert "vlan.del.5" not in state["links"]
    assert lab.link_mac(lab.node, "vlan.eth.5") == "02:00:00:00:05:99"
    assert node.agent.repair_and_report()["pendingLinkDeletions"] == []


def test_an_add_removes_a_retired_link_of_its_vlan_left_by_a_daemon_that_died(
    lab, kube, node_factory
):
    node = node_factory("strict")
    sh("ip", "-n", lab.node, "link", "add", "vlan.del.5", "link", "eth1", "type", "macvlan")
    pod = Pods(lab, kube, node).add("green", 5, "10.0.1.20")
    assert "vlan.del.5" not in node_state(lab)["links"]
    assert connect(pod["netns"], RDS_IP, RDS_PORT) == "10.0.1.20"
