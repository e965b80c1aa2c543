"""Helpers for the network-namespace tests: pods created the way the controller and kubelet
together would, and the node's state as ``ip`` shows it."""

from __future__ import annotations

import time
import uuid

from harness import InProcessNode, Node, annotation
from kube_emulator import EmulatedKubernetes
from lab import Lab, sh
from sgp_node_agent.kube import PodSource


def make_node(lab, kube, tmp_path, mode, early_demux_off=True):
    node = InProcessNode(
        lab,
        tmp_path,
        kube.write_kubeconfig(tmp_path / "kubeconfig"),
        mode,
        early_demux_off,
        pod_source=PodSource(kube.api_client()),
    )
    return node


class Pods:
    """Creates branch pods the way the controller and kubelet together would."""

    def __init__(self, lab: Lab, kube: EmulatedKubernetes, node: Node) -> None:
        self.lab, self.kube, self.node = lab, kube, node
        self.namespace = f"ns-{lab.tag}"

    def add(self, short, vlan_id, ip, mac=None, name=None, container_id=None, expect_ok=True):
        mac = mac or f"02:00:00:00:{vlan_id:02x}:{int(ip.split('.')[-1]):02x}"
        name = name or short
        uid = str(uuid.uuid4())
        self.kube.create_pod(
            self.namespace, name, self.lab.node, annotation(vlan_id, mac, ip), uid=uid
        )
        self.lab.register_branch(mac, ip)
        netns = self.lab.pod_netns(short)
        container_id = container_id or f"c-{short}-{uuid.uuid4().hex[:8]}"
        code, result = self.node.cni("ADD", container_id, netns, (self.namespace, name, uid))
        if expect_ok:
            assert code == 0, result
        return {
            "netns": netns,
            "result": result,
            "uid": uid,
            "container_id": container_id,
            "ip": ip,
            "mac": mac,
            "name": name,
            "vlan_id": vlan_id,
            "short": short,
        }

    def delete(self, pod, netns=None, prev=True):
        return self.node.cni(
            "DEL",
            pod["container_id"],
            pod["netns"] if netns is None else netns,
            (self.namespace, pod["name"], pod["uid"]),
            prev_result=pod["result"] if prev else None,
        )


def drop_netns(path: str) -> None:
    """What the runtime does right after DEL: destroy the sandbox's network namespace."""
    sh("ip", "netns", "del", path.rsplit("/", 1)[1])


def settled_state(lab: Lab, expected: dict, timeout: float = 5.0) -> dict:
    """The node state, polled until it equals ``expected`` or ``timeout`` passes: the kernel
    destroys a deleted namespace's links asynchronously (cleanup_net runs in a workqueue)."""
    deadline = time.monotonic() + timeout
    state = node_state(lab)
    while state != expected and time.monotonic() < deadline:
        time.sleep(0.05)
        state = node_state(lab)
    return state


def node_state(lab: Lab) -> dict:
    """What the node namespace holds, without interface indexes."""
    rules = sh("ip", "-n", lab.node, "rule").strip().splitlines()
    routes = sh("ip", "-n", lab.node, "-4", "route", "show", "table", "all").strip().splitlines()
    links = sorted(
        line.split()[0].split("@")[0]
        for line in sh("ip", "-n", lab.node, "-br", "link").splitlines()
    )
    return {
        "rules": rules,
        "routes": sorted(r for r in routes if "table local" not in r),
        "links": links,
    }
