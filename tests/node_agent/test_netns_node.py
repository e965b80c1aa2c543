"""The node agent in real network namespaces: a node, a VPC fabric enforcing security groups,
an RDS listener and an off-VPC host (see lab.py). Pods are created by running sgp-cni exactly
as a container runtime does."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from harness import InProcessNode, Node, annotation
from kube_emulator import EmulatedKubernetes
from lab import INET_IP, INET_PORT, NODE_IP, RDS_IP, RDS_PORT, Lab, Listener, connect, sh, sysctl
from sgp_node_agent.kube import PodSource

pytestmark = pytest.mark.netns


@pytest.fixture(scope="module")
def kube():
    emulator = EmulatedKubernetes().start()
    yield emulator
    emulator.stop()


@pytest.fixture
def lab(request):
    lab = Lab()
    request.addfinalizer(lab.down)
    return lab.up()


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


@pytest.fixture
def node_factory(lab, kube, tmp_path, request):
    def start(mode="strict", early_demux_off=True, **changes):
        node = make_node(lab, kube, tmp_path, mode, early_demux_off)
        request.addfinalizer(node.stop)
        return node.start(**changes)

    return start


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


def test_repair_removes_leftovers_restores_rules_and_reports(lab, kube, node_factory):
    node = node_factory("strict", node_name=lab.node)
    pods = Pods(lab, kube, node)
    keep = pods.add("keep", 5, "10.0.1.20")
    gone = pods.add("gone", 7, "10.0.1.22")
    kube.delete_pod(pods.namespace, "gone")  # deleted without a DEL ever arriving
    sh(
        "ip",
        "-n",
        lab.node,
        "link",
        "add",
        "vlan.eth.9",
        "link",
        "eth1",
        "type",
        "macvlan",
        "mode",
        "bridge",
    )
    sh("ip", "-n", lab.node, "rule", "add", "pref", "10", "iif", "vlan.eth.9", "table", "109")
    sh("ip", "-n", lab.node, "rule", "del", "pref", "10", "iif", "vlan.eth.5", "table", "105")
    report = node.agent.repair_and_report()
    state = node_state(lab)
    assert "vlan.eth.7" not in state["links"] and "vlan.eth.9" not in state["links"]
    assert not any("lookup 107" in r or "lookup 109" in r for r in state["rules"])
    assert any("iif vlan.eth.5 lookup 105" in r for r in state["rules"])
    assert connect(keep["netns"], RDS_IP, RDS_PORT) == "10.0.1.20"
    assert [p["name"] for p in report["pods"]] == ["keep"]
    assert report["pods"][0]["rulesOk"] and report["pods"][0]["linkUp"]
    assert any("gone" in line for line in report["removedLeftovers"])
    assert "link vlan.eth.9" in report["removedLeftovers"]
    assert report["node"]["sysctls"]["net.ipv4.tcp_early_demux"] == "0"
    assert report["node"]["hostRules"] == {"fwmarkRule": True, "localRulePriority": 20}
    assert gone["container_id"] not in json.dumps(report["pods"])


def test_host_setup_is_idempotent_and_uninstall_restores_the_node(lab, kube, tmp_path):
    node = make_node(lab, kube, tmp_path, "strict")
    sysctl(lab.node, "net/ipv4/conf/eth0/rp_filter", "1")
    before = node_state(lab)
    demux = sh("ip", "netns", "exec", lab.node, "cat", "/proc/sys/net/ipv4/tcp_early_demux").strip()
    node.start()
    try:
        installed = node_state(lab)
        assert "20:\tfrom all lookup local" in installed["rules"]
        assert "0:\tfrom all lookup local" not in installed["rules"]
        assert "1024:\tfrom all fwmark 0x80/0x80 lookup main" in installed["rules"]
        read = lambda p: sh("ip", "netns", "exec", lab.node, "cat", f"/proc/sys/{p}").strip()  # noqa: E731
        assert read("net/ipv4/conf/eth0/rp_filter") == "2"
        assert read("net/ipv4/tcp_early_demux") == "0"
        nft = sh("ip", "netns", "exec", lab.node, "nft", "list", "table", "ip", "sgp-node-agent")
        assert 'oifname "vlan*" return' in nft
        node.agent.install_host()
        assert node_state(lab) == installed
        node.agent.uninstall_host()
        assert node_state(lab) == before
        assert read("net/ipv4/conf/eth0/rp_filter") == "1"
        assert read("net/ipv4/tcp_early_demux") == demux
        assert sh("ip", "netns", "exec", lab.node, "nft", "list", "tables").strip() == ""
    finally:
        node.stop()


def test_the_real_daemon_process_serves_sgp_cni(lab, kube, tmp_path):
    node = Node(lab, tmp_path, kube.write_kubeconfig(tmp_path / "kubeconfig"), "strict", True)
    del node.env["SGP_TRUNK_INTERFACE"]
    node.env["SGP_TRUNK_MAC"] = lab.link_mac(lab.node, "eth1").upper()  # found by MAC, as upstream
    try:
        node.start()
        pods = Pods(lab, kube, node)
        pod = pods.add("green", 5, "10.0.1.20")
        assert connect(pod["netns"], RDS_IP, RDS_PORT) == "10.0.1.20"
        assert pods.delete(pod) == (0, None)
        assert "vlan.eth.5" not in node_state(lab)["links"]
        assert not any("lookup 105" in rule for rule in node_state(lab)["rules"])
    finally:
        node.stop()
    assert node.process.returncode == 0


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


def test_del_works_while_the_daemon_is_down(lab, kube, node_factory):
    node = node_factory("standard")
    pods = Pods(lab, kube, node)
    before_pod = node_state(lab)
    pod = pods.add("green", 5, "10.0.1.20")
    node.stop()  # the daemon is gone; its records stay on disk
    assert pods.delete(pod) == (0, None)
    drop_netns(pod["netns"])
    assert settled_state(lab, before_pod) == before_pod
    code, out = pods.node.cni(
        "ADD", "c-other", lab.pod_netns("other"), (pods.namespace, "green", pod["uid"])
    )
    assert code == 1 and out["code"] == 11


def test_report_reaches_sgpadmin_with_the_node_token(lab, kube, node_factory):
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            received.append((self.path, self.headers["Authorization"], body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        node = node_factory(
            "strict",
            node_name=lab.node,
            report_url=f"http://127.0.0.1:{server.server_address[1]}",
            report_token="node-token-1",
        )
        Pods(lab, kube, node).add("green", 5, "10.0.1.20")
        node.agent.repair_and_report()
    finally:
        server.shutdown()
        server.server_close()
    path, auth, body = received[0]
    assert path == f"/api/nodes/{lab.node}/report/"
    assert auth == "Bearer node-token-1"
    assert [
        (p["name"], p["vlanId"], p["linkUp"], p["rulesOk"], p["routesOk"]) for p in body["pods"]
    ] == [("green", 5, True, True, True)]


def test_uninstall_command_undoes_setup_host(lab, kube, tmp_path):
    import subprocess

    from harness import BIN

    node = Node(lab, tmp_path, kube.write_kubeconfig(tmp_path / "kubeconfig"), "strict", True)
    before = node_state(lab)
    for command in ("setup-host", "setup-host"):
        done = subprocess.run(
            [str(BIN / "sgp-node-agent"), command],
            env=node.env,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert done.returncode == 0, done.stderr
    assert "20:\tfrom all lookup local" in node_state(lab)["rules"]
    done = subprocess.run(
        [str(BIN / "sgp-node-agent"), "uninstall"],
        env=node.env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    assert node_state(lab) == before


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
    state = node_state(lab)
    assert "vlan.eth.5" not in state["links"] and "vlan.eth.6" in state["links"]
    assert not any("lookup 105" in rule for rule in state["rules"])
    assert sum("lookup 106" in rule for rule in state["rules"]) == 2
    assert connect(new["netns"], RDS_IP, RDS_PORT) == "10.0.1.31"


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


def test_del_from_prev_result_alone_when_the_records_are_lost(lab, kube, node_factory, tmp_path):
    node = node_factory("strict")
    pods = Pods(lab, kube, node)
    before = node_state(lab)
    pod = pods.add("green", 5, "10.0.1.20")
    for path in (tmp_path / "pods").glob("*.json"):
        path.unlink()
    node.agent.store.reload()
    assert pods.delete(pod) == (0, None)
    drop_netns(pod["netns"])
    assert settled_state(lab, before) == before


def test_check_without_prev_result_is_an_invalid_configuration(lab, kube, node_factory):
    pods = Pods(lab, kube, node_factory("strict"))
    pod = pods.add("green", 5, "10.0.1.20")
    code, out = pods.node.cni(
        "CHECK", pod["container_id"], pod["netns"], (pods.namespace, "green", pod["uid"])
    )
    assert code == 1 and out["code"] == 7


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
    assert [code for code, _ in results] == [0] * 8
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
    for spec in specs:
        drop_netns(spec[1])
    assert settled_state(lab, before) == before


def test_report_once_command_prints_the_node_report(lab, kube, node_factory):
    import subprocess

    from harness import BIN

    node = node_factory("strict")
    Pods(lab, kube, node).add("green", 5, "10.0.1.20")
    done = subprocess.run(
        [str(BIN / "sgp-node-agent"), "report-once"],
        env=node.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["node"]["name"] == lab.node and report["node"]["mode"] == "strict"
    assert [(p["name"], p["linkUp"], p["rulesOk"], p["routesOk"]) for p in report["pods"]] == [
        ("green", True, True, True)
    ]
