import datetime
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from node_factories import record
from sgp_node_agent import __version__
from sgp_node_agent.hostplan import LOCAL_AT_20, fwmark_rule
from sgp_node_agent.reconcile import PodStatus
from sgp_node_agent.repair import PassResult
from sgp_node_agent.report import ReportError, build_report, post_report


@pytest.fixture
def sgpadmin():
    """A tiny stand-in for sgpadmin's report endpoint on 127.0.0.1."""
    received = []
    answer = {"status": 201}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(
                (
                    self.path,
                    self.headers.get("Authorization"),
                    self.headers.get("Content-Type"),
                    json.loads(body),
                )
            )
            self.send_response(answer["status"])
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", received, answer
    server.shutdown()
    server.server_close()


def sample_report():
    healthy = PodStatus(record("c1"), True, True, True, True)
    broken = PodStatus(
        record("c2", vlan_id=8, name="blue", uid="uid-blue"),
        False,
        True,
        False,
        True,
        ("link vlan.eth.8 is missing",),
    )
    result = PassResult(
        statuses=[healthy, broken],
        removed=["link vlan.eth.9"],
        repaired=[],
        errors={"c2": "failed to setup vlan: boom"},
        deleting=["vlan.del.4"],
        unreadable=["c3.json: JSONDecodeError: Expecting value: line 1 column 1 (char 0)"],
    )
    return build_report(
        "node-1",
        "strict",
        "eth1",
        {
            "net/ipv4/tcp_early_demux": "0",
            "net/ipv4/ip_forward": "1",
            "net/ipv4/conf/eth0/rp_filter": "2",
        },
        [fwmark_rule(0x80), LOCAL_AT_20],
        0x80,
        result,
        now=datetime.datetime(2026, 11, 26, 12, 0, tzinfo=datetime.UTC),
    )


def test_report_schema_per_node_and_per_pod():
    report = sample_report()
    assert report["schemaVersion"] == 1
    assert report["node"] == {
        "name": "node-1",
        "agentVersion": __version__,
        "mode": "strict",
        "generatedAt": "2026-11-26T12:00:00Z",
        "trunkInterface": "eth1",
        "sysctls": {
            "net.ipv4.conf.eth0.rp_filter": "2",
            "net.ipv4.ip_forward": "1",
            "net.ipv4.tcp_early_demux": "0",
        },
        "hostRules": {"fwmarkRule": True, "localRulePriority": 20},
        "apiError": None,
    }
    first, second = report["pods"]
    assert (
        first["vlanId"] == 7 and first["linkUp"] and first["rulesOk"] and first["lastError"] is None
    )
    assert second["uid"] == "uid-blue" and not second["linkUp"] and not second["rulesOk"]
    assert second["problems"] == ["link vlan.eth.8 is missing"]
    assert second["lastError"] == "failed to setup vlan: boom"
    assert report["removedLeftovers"] == ["link vlan.eth.9"]
    assert report["pendingLinkDeletions"] == ["vlan.del.4"]
    assert report["unreadableRecords"] == [
        "c3.json: JSONDecodeError: Expecting value: line 1 column 1 (char 0)"
    ]
    assert set(first) == {
        "namespace",
        "name",
        "uid",
        "containerId",
        "vlanId",
        "eniId",
        "branchMac",
        "podIp",
        "hostVeth",
        "mode",
        "linkUp",
        "hostVethUp",
        "rulesOk",
        "routesOk",
        "problems",
        "lastError",
    }


def test_report_is_posted_with_the_node_bearer_token(sgpadmin):
    url, received, _ = sgpadmin
    report = sample_report()
    assert post_report(url, "node-1", "tok-123", report) == 201
    path, auth, content_type, body = received[0]
    assert path == "/api/nodes/node-1/report/"
    assert auth == "Bearer tok-123"
    assert content_type == "application/json"
    assert body == report


def test_rejected_report_is_an_error(sgpadmin):
    url, _, answer = sgpadmin
    answer["status"] = 403
    with pytest.raises(ReportError, match="403"):
        post_report(url, "node-1", "wrong", sample_report())


def test_unreachable_sgpadmin_is_an_error():
    with pytest.raises(ReportError):
        post_report("http://127.0.0.1:9", "node-1", "tok", {}, timeout=1)
