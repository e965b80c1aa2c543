"""The daemon in the netns lab: host setup and uninstall, the repair pass, the report to sgpadmin,
and the real ``sgp-node-agent`` process and commands."""

from __future__ import annotations

import json

import pytest
from harness import Node
from lab import RDS_IP, RDS_PORT, connect, sh, sysctl
from netns_support import Pods, drop_netns, make_node, node_state, settled_state

pytestmark = pytest.mark.netns


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
    # what a daemon that died between a DEL's reply and the link's deletion leaves behind
    sh("ip", "-n", lab.node, "link", "add", "vlan.del.8", "link", "eth1", "type", "macvlan")
    sh("ip", "-n", lab.node, "rule", "del", "pref", "10", "iif", "vlan.eth.5", "table", "105")
    report = node.agent.repair_and_report()
    state = node_state(lab)
    assert not {"vlan.eth.7", "vlan.eth.9", "vlan.del.8"} & set(state["links"])
    assert not any("lookup 107" in r or "lookup 109" in r for r in state["rules"])
    assert any("iif vlan.eth.5 lookup 105" in r for r in state["rules"])
    assert connect(keep["netns"], RDS_IP, RDS_PORT) == "10.0.1.20"
    assert [p["name"] for p in report["pods"]] == ["keep"]
    assert report["pods"][0]["rulesOk"] and report["pods"][0]["linkUp"]
    assert any("gone" in line for line in report["removedLeftovers"])
    assert "link vlan.eth.9" in report["removedLeftovers"]
    assert "link vlan.del.8" in report["removedLeftovers"]
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
        node.settle()  # through the real process's socket
        assert not {"vlan.eth.5", "vlan.del.5"} & set(node_state(lab)["links"])
        assert not any("lookup 105" in rule for rule in node_state(lab)["rules"])
    finally:
        node.stop()
    assert node.process.returncode == 0


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
    node = Node(lab, tmp_path, kube.write_kubeconfig(tmp_path / "kubeconfig"), "strict", True)
    before = node_state(lab)
    for command in ("setup-host", "setup-host"):
        done = node.command(command, timeout=30)
        assert done.returncode == 0, done.stderr
    assert "20:\tfrom all lookup local" in node_state(lab)["rules"]
    done = node.command("uninstall", timeout=30)
    assert done.returncode == 0, done.stderr
    assert node_state(lab) == before


def test_report_once_command_prints_the_node_report(lab, kube, node_factory):
    node = node_factory("strict")
    Pods(lab, kube, node).add("green", 5, "10.0.1.20")
    done = node.command("report-once")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["node"]["name"] == lab.node and report["node"]["mode"] == "strict"
    assert [(p["name"], p["linkUp"], p["rulesOk"], p["routesOk"]) for p in report["pods"]] == [
        ("green", True, True, True)
    ]


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
