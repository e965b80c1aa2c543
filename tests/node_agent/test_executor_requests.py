"""The exact pyroute2 requests the executor makes (no kernel needed)."""

from sgp_node_agent.executor import Executor, branch_link_request, route_request, rule_request
from sgp_node_agent.model import BranchLink, Route, Rule


class RecordingIPRoute:
    def __init__(self):
        self.calls = []

    def link(self, command, **kwargs):
        self.calls.append(("link", command, kwargs))

    def rule(self, command, **kwargs):
        self.calls.append(("rule", command, kwargs))
        if len(self.calls) > 2:
            from pyroute2.netlink.exceptions import NetlinkError

            raise NetlinkError(2, "No such file or directory")


def executor_with(ipr, links) -> Executor:
    executor = Executor.__new__(Executor)
    executor.host = ipr
    executor.host_index = links.get
    return executor


def test_vlan_link_request_is_a_real_8021q_link_on_the_trunk_with_the_branch_mac():
    ipr = RecordingIPRoute()
    executor_with(ipr, {"eth1": 3}).add_branch_link(
        BranchLink("vlan.eth.7", "vlan", 7, "00:00:5e:00:53:af", "eth1")
    )
    assert ipr.calls == [
        (
            "link",
            "add",
            {
                "ifname": "vlan.eth.7",
                "kind": "vlan",
                "link": 3,
                "address": "00:00:5e:00:53:af",
                "vlan_id": 7,
            },
        )
    ]


def test_macvlan_stand_in_is_only_used_when_asked_for():
    request = branch_link_request(
        BranchLink("vlan.eth.7", "macvlan", 7, "00:00:5e:00:53:af", "eth1"), 3
    )
    assert request == {
        "ifname": "vlan.eth.7",
        "kind": "macvlan",
        "link": 3,
        "address": "00:00:5e:00:53:af",
        "macvlan_mode": "bridge",
    }


def test_rule_requests_for_both_modes_and_the_wildcard_delete():
    assert rule_request(Rule(10, 107, iifname="vlan.eth.7")) == {
        "priority": 10,
        "table": 107,
        "iifname": "vlan.eth.7",
    }
    assert rule_request(Rule(512, 254, dst="10.0.1.20/32")) == {
        "priority": 512,
        "table": 254,
        "dst": "10.0.1.20",
        "dst_len": 32,
    }
    assert rule_request(Rule(1536, 107, src="10.0.1.20/32")) == {
        "priority": 1536,
        "table": 107,
        "src": "10.0.1.20",
        "src_len": 32,
    }
    assert rule_request(Rule(10, None, iifname="vlanx")) == {"priority": 10, "iifname": "vlanx"}
    assert rule_request(Rule(1024, 254, fwmark=0x80, fwmask=0x80)) == {
        "priority": 1024,
        "table": 254,
        "fwmark": 0x80,
        "fwmask": 0x80,
    }


def test_route_requests_use_link_scope_and_the_vlan_table():
    assert route_request(Route(107, "10.0.1.1/32", "vlan.eth.7", scope="link"), 9) == {
        "dst": "10.0.1.1/32",
        "oif": 9,
        "table": 107,
        "scope": 253,
    }
    assert route_request(Route(107, "0.0.0.0/0", "vlan.eth.7", gateway="10.0.1.1"), 9) == {
        "dst": "0.0.0.0/0",
        "oif": 9,
        "table": 107,
        "scope": 0,
        "gateway": "10.0.1.1",
    }


def test_rule_selectors_are_deleted_until_the_kernel_says_enoent():
    ipr = RecordingIPRoute()
    assert executor_with(ipr, {}).delete_rule(Rule(10, 107)) == 2
    assert ipr.calls == [("rule", "del", {"priority": 10, "table": 107})] * 3
