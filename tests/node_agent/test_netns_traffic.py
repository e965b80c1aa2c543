"""Traffic through the netns lab (see lab.py): security groups enforced by the VPC fabric, strict vs
standard routing, SNAT, tcp_early_demux, and what ADD puts on the links. Pods are created by
running sgp-cni exactly as a container runtime does."""

from __future__ import annotations

import uuid

import pytest
from harness import annotation
from lab import INET_IP, INET_PORT, NODE_IP, RDS_IP, RDS_PORT, Listener, connect, sh, sysctl
from netns_support import Pods, node_state

pytestmark = pytest.mark.netns


@pytest.mark.parametrize("mode", ["strict", "standard"])
def test_branch_pod_reaches_rds_and_primary_eni_pod_times_out(lab, kube, node_factory, mode):
    pods = Pods(lab, kube, node_factory(mode))
    green = pods.add("green", 5, "10.0.1.20")
    red = lab.plain_pod("red", "10.0.0.21")
    assert connect(green["netns"], RDS_IP, RDS_PORT) == "10.0.1.20"
    dropped = lab.dropped()
    assert connect(red, RDS_IP, RDS_PORT, timeout=1.0) is None
    assert lab.dropped() > dropped  # the fabric's security group dropped the SYNs


def test_off_vpc_host_sees_pod_ip_in_strict_and_node_ip_in_standard(lab, kube, node_factory):
    pods = Pods(lab, kube, node_factory("strict"))
    strict_pod = pods.add("strict", 5, "10.0.1.20")
    assert connect(strict_pod["netns"], INET_IP, INET_PORT) == "10.0.1.20"
    code, _ = pods.node.cni("ADD", "c-standard", lab.pod_netns("standard"), None, mode="standard")
    assert code != 0  # no pod identity: rejected before anything is plumbed
    standard_pod = pods.add("std", 6, "10.0.1.21")
    assert connect(standard_pod["netns"], INET_IP, INET_PORT) == "10.0.1.21"  # this node is strict


def test_standard_mode_snats_off_vpc_traffic_to_the_node_ip(lab, kube, node_factory):
    pods = Pods(lab, kube, node_factory("standard"))
    pod = pods.add("std", 6, "10.0.1.21")
    assert connect(pod["netns"], INET_IP, INET_PORT) == NODE_IP
    assert connect(pod["netns"], RDS_IP, RDS_PORT) == "10.0.1.21"  # VPC traffic keeps the pod IP


def test_node_to_pod_tcp_in_strict_mode_needs_tcp_early_demux_off(lab, kube, node_factory):
    pods = Pods(lab, kube, node_factory("strict", early_demux_off=True))
    pod = pods.add("probe", 5, "10.0.1.20")
    listener = Listener(pod["netns"], "10.0.1.20", 8080)
    try:
        assert connect(lab.node, "10.0.1.20", 8080) == NODE_IP  # via the fabric, node SG admitted
        sysctl(lab.node, "net/ipv4/tcp_early_demux", "1")
        assert connect(lab.node, "10.0.1.20", 8080, timeout=1.0) is None
    finally:
        listener.close()


def test_node_to_pod_tcp_in_standard_mode_is_direct_with_early_demux_on(lab, kube, node_factory):
    pods = Pods(lab, kube, node_factory("standard", early_demux_off=False))
    pod = pods.add("probe", 5, "10.0.1.20")
    listener = Listener(pod["netns"], "10.0.1.20", 8080)
    try:
        assert (
            sh("ip", "netns", "exec", lab.node, "cat", "/proc/sys/net/ipv4/tcp_early_demux").strip()
            == "1"
        )
        dropped = lab.dropped()
        assert connect(lab.node, "10.0.1.20", 8080) == NODE_IP
        assert lab.dropped() == dropped
    finally:
        listener.close()


def test_mtu_neighbour_and_ipv6_sysctls_are_applied(lab, kube, node_factory):
    pods = Pods(lab, kube, node_factory("strict"))
    mac = "02:00:00:00:05:14"
    uid = str(uuid.uuid4())
    kube.create_pod(pods.namespace, "mtu", lab.node, annotation(5, mac, "10.0.1.20"), uid=uid)
    lab.register_branch(mac, "10.0.1.20")
    netns = lab.pod_netns("mtu")
    code, result = pods.node.cni("ADD", "c-mtu", netns, (pods.namespace, "mtu", uid), mtu=1500)
    assert code == 0, result
    host_veth = result["interfaces"][0]["name"]
    pod_ns = netns.rsplit("/", 1)[1]
    assert " mtu 1500 " in sh("ip", "-n", pod_ns, "link", "show", "eth0")
    assert f"169.254.1.1 dev eth0 lladdr {result['interfaces'][0]['mac']} PERMANENT" in sh(
        "ip", "-n", pod_ns, "neigh", "show"
    )
    assert "default via 169.254.1.1 dev eth0" in sh("ip", "-n", pod_ns, "route")
    for link in ("vlan.eth.5", host_veth):
        values = [
            sh(
                "ip", "netns", "exec", lab.node, "cat", f"/proc/sys/net/ipv6/conf/{link}/{name}"
            ).strip()
            for name in ("accept_ra", "accept_redirects", "forwarding")
        ]
        assert values == ["0", "1", "0"]
    assert f"link/ether {mac}" in sh("ip", "-n", lab.node, "link", "show", "vlan.eth.5")


def test_production_vlan_kind_fails_cleanly_on_a_kernel_without_8021q(lab, kube, node_factory):
    """The default branchLinkKind asks the kernel for a real 802.1Q link. This kernel has none, so
    the ADD must fail with upstream's step name and roll back everything it had made."""
    pods = Pods(lab, kube, node_factory("strict"))
    before = node_state(lab)
    uid = str(uuid.uuid4())
    kube.create_pod(
        pods.namespace, "tagged", lab.node, annotation(5, "02:00:00:00:05:55", "10.0.1.20"), uid=uid
    )
    code, out = pods.node.cni(
        "ADD",
        "c-tagged",
        lab.pod_netns("tagged"),
        (pods.namespace, "tagged", uid),
        branchLinkKind="vlan",
    )
    assert code == 1 and out["code"] == 999
    assert out["msg"] == "failed to setup vlan"
    assert "not supported" in out["details"].lower()
    assert node_state(lab) == before


def test_add_removes_stale_iif_rules_of_a_previous_incarnation(lab, kube, node_factory):
    """aws/amazon-vpc-cni-k8s#1375: a force-deleted pod left ``iif <hostveth>`` into an old table."""
    from sgp_node_agent.names import host_veth_name

    node = node_factory("strict")
    veth = host_veth_name(f"ns-{lab.tag}", "green", "strict")
    sh("ip", "-n", lab.node, "rule", "add", "pref", "10", "iif", veth, "table", "199")
    pod = Pods(lab, kube, node).add("green", 5, "10.0.1.20")
    rules = node_state(lab)["rules"]
    assert not any("lookup 199" in rule for rule in rules)
    assert any(f"iif {veth} lookup 105" in rule for rule in rules)
    assert connect(pod["netns"], RDS_IP, RDS_PORT) == "10.0.1.20"
