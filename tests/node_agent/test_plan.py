import pytest
from hypothesis import given
from hypothesis import strategies as st
from node_factories import pod_inputs
from sgp_node_agent.model import Route, Rule, Sysctl
from sgp_node_agent.names import host_veth_name
from sgp_node_agent.plan import choose_mac, plan_pod


def test_strict_plan_is_upstreams_strict_plumbing():
    plan = plan_pod(pod_inputs("strict"))
    veth = host_veth_name("default", "green", "strict")
    assert plan.host_veth == veth and veth.startswith("vlan")
    assert plan.table == 107
    assert (plan.branch_link.name, plan.branch_link.kind, plan.branch_link.vlan_id) == (
        "vlan.eth.7",
        "vlan",
        7,
    )
    assert (plan.branch_link.mac, plan.branch_link.trunk) == ("00:00:5e:00:53:af", "eth1")
    assert plan.table_routes == (
        Route(107, "192.168.120.1/32", "vlan.eth.7", scope="link"),
        Route(107, "0.0.0.0/0", "vlan.eth.7", gateway="192.168.120.1"),
    )
    assert plan.pod_route == Route(107, "192.168.120.20/32", veth, scope="link")
    assert plan.rules == (Rule(10, 107, iifname="vlan.eth.7"), Rule(10, 107, iifname=veth))
    assert plan.stale_iif_rule == Rule(10, None, iifname=veth)


def test_standard_plan_is_upstreams_standard_plumbing():
    plan = plan_pod(pod_inputs("standard"))
    veth = host_veth_name("default", "green", "standard")
    assert veth.startswith("eni")
    assert plan.pod_route == Route(254, "192.168.120.20/32", veth, scope="link")
    assert plan.rules == (
        Rule(512, 254, dst="192.168.120.20/32"),
        Rule(1536, 107, src="192.168.120.20/32"),
    )


def test_pod_side_has_link_route_default_route_address_and_permanent_neighbour():
    plan = plan_pod(pod_inputs())
    assert plan.pod_routes == (
        Route(254, "169.254.1.1/32", "eth0", scope="link"),
        Route(254, "0.0.0.0/0", "eth0", gateway="169.254.1.1"),
    )
    assert plan.pod_address == "192.168.120.20/32"
    assert (plan.pod_neighbour.ip, plan.pod_neighbour.mac) == ("169.254.1.1", "02:11:22:33:44:55")
    assert plan.veth.mtu == 9001 and plan.veth.host_mac == "02:11:22:33:44:55"


def test_ipv6_sysctls_go_on_both_host_links_in_slash_form():
    plan = plan_pod(pod_inputs())
    assert plan.branch_link_sysctls == (
        Sysctl("net/ipv6/conf/vlan.eth.7/accept_ra", "0"),
        Sysctl("net/ipv6/conf/vlan.eth.7/accept_redirects", "1"),
        Sysctl("net/ipv6/conf/vlan.eth.7/forwarding", "0"),
    )
    assert [s.path.split("/")[3] for s in plan.host_veth_sysctls] == [plan.host_veth] * 3


@given(
    vlan_id=st.integers(min_value=1, max_value=120), mode=st.sampled_from(["strict", "standard"])
)
def test_every_rule_and_route_of_a_pod_points_at_its_own_table_or_main(vlan_id, mode):
    plan = plan_pod(pod_inputs(mode, vlan_id=vlan_id))
    assert plan.table == vlan_id + 100
    assert {r.table for r in plan.rules} <= {plan.table, 254}
    assert all(r.table == plan.table for r in plan.table_routes)
    assert all(r.oif == f"vlan.eth.{vlan_id}" for r in plan.table_routes)
    main_entries = [r for r in plan.rules if r.table == 254] + (
        [plan.pod_route] if plan.pod_route.table == 254 else []
    )
    assert (mode == "strict") == (not main_entries)  # strict puts nothing about the pod into main


@given(st.lists(st.binary(min_size=6, max_size=6), min_size=1, max_size=10))
def test_chosen_mac_is_locally_administered_unicast_and_unused(candidates):
    taken = set()
    for _ in range(3):
        try:
            mac = choose_mac(candidates, taken)
        except ValueError:
            assert len(taken) > 0
            return
        first = int(mac.split(":")[0], 16)
        assert first & 0x02 and not first & 0x01
        assert mac not in taken
        taken.add(mac)


def test_choose_mac_fails_when_every_candidate_is_taken():
    with pytest.raises(ValueError):
        choose_mac([b"\x02\x00\x00\x00\x00\x01"], {"02:00:00:00:00:01"})
