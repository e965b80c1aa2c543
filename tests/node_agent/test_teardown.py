from hypothesis import given
from hypothesis import strategies as st
from sgp_node_agent.model import Route, Rule
from sgp_node_agent.teardown import Claims, ObservedBranch, TeardownTarget, plan_teardown

VETH = "vlan0f6c2b95910"
MAC = "02:00:00:00:06:06"
VETH_MAC = "0a:00:00:00:00:01"
TARGET = TeardownTarget("old", 6, "10.0.1.20", VETH, MAC, VETH_MAC)
STRICT_RULES = (Rule(10, 106, iifname="vlan.eth.6"), Rule(10, 106, iifname=VETH))
STANDARD_RULES = (Rule(512, 254, dst="10.0.1.20/32"), Rule(1536, 106, src="10.0.1.20/32"))
OTHER_RULES = (
    Rule(10, 107, iifname="vlan.eth.7"),
    Rule(512, 254, dst="10.0.1.99/32"),
    Rule(1024, 254, fwmark=128),
)


def test_own_pod_is_torn_down_like_upstream():
    observed = ObservedBranch(MAC, VETH_MAC, STRICT_RULES + OTHER_RULES, pod_main_route_oif=None)
    plan = plan_teardown(TARGET, observed, Claims())
    assert plan.delete_links == ("vlan.eth.6", VETH)
    assert set(plan.delete_rules) == set(STRICT_RULES)
    assert Route(106, "10.0.1.20/32", VETH, scope="link") in plan.delete_routes
    assert plan.kept == ()


def test_standard_rules_and_main_route_are_removed_even_for_a_strict_record():
    observed = ObservedBranch(MAC, None, STANDARD_RULES, pod_main_route_oif="eni0f6c2b95910")
    plan = plan_teardown(TARGET, observed, Claims())
    assert set(plan.delete_rules) == set(STANDARD_RULES)
    assert Route(254, "10.0.1.20/32", "eni0f6c2b95910", scope="link") in plan.delete_routes


def test_vlan_reused_by_a_new_pod_with_another_branch_mac_is_left_alone():
    new_veth = "vlanaaaaaaaaaaa"
    live_rules = (Rule(10, 106, iifname="vlan.eth.6"), Rule(10, 106, iifname=new_veth))
    observed = ObservedBranch("02:00:00:00:99:99", None, (*live_rules, Rule(10, 106, iifname=VETH)))
    plan = plan_teardown(TARGET, observed, Claims())
    assert "vlan.eth.6" not in plan.delete_links
    assert plan.delete_rules == (Rule(10, 106, iifname=VETH),)  # only our own, dangling rule
    assert not any(route.table == 106 for route in plan.delete_routes)
    assert any("belongs to another pod" in reason for reason in plan.kept)


def test_same_pod_name_and_recycled_eni_is_protected_by_the_records():
    # A re-created pod with the same name (same host veth name), same VLAN and same branch MAC:
    # only the agent's records can tell the old sandbox from the new one.
    observed = ObservedBranch(MAC, "0a:00:00:00:00:02", STRICT_RULES)
    claims = Claims(
        vlan_ids=frozenset({6}), pod_ips=frozenset({"10.0.1.20"}), host_veths=frozenset({VETH})
    )
    plan = plan_teardown(TARGET, observed, claims)
    assert plan.empty


def test_host_veth_with_another_mac_is_not_ours():
    observed = ObservedBranch(None, "0a:00:00:00:00:02", ())
    plan = plan_teardown(TARGET, observed, Claims())
    assert VETH not in plan.delete_links


def test_upstream_shaped_prev_result_without_macs_behaves_like_upstream():
    target = TeardownTarget("old", 6, "10.0.1.20", VETH)
    observed = ObservedBranch("02:00:00:00:99:99", VETH_MAC, STRICT_RULES)
    plan = plan_teardown(target, observed, Claims())
    assert plan.delete_links == (
        "vlan.eth.6",
    )  # no MAC to compare: the host veth stays to the runtime
    assert set(plan.delete_rules) == set(STRICT_RULES)


def test_nothing_observed_is_nothing_to_delete_but_the_harmless_table_route():
    plan = plan_teardown(TARGET, ObservedBranch(), Claims())
    assert plan.delete_links == () and plan.delete_rules == ()
    assert plan.delete_routes == (Route(106, "10.0.1.20/32", VETH, scope="link"),)


rules = st.builds(
    Rule,
    priority=st.sampled_from([10, 512, 1024, 1536]),
    table=st.sampled_from([105, 106, 107, 254]),
    iifname=st.sampled_from([None, "vlan.eth.6", "vlan.eth.7", VETH, "vlanaaaaaaaaaaa"]),
    dst=st.sampled_from([None, "10.0.1.20/32", "10.0.1.21/32"]),
    src=st.sampled_from([None, "10.0.1.20/32", "10.0.1.21/32"]),
)
macs = st.sampled_from([None, MAC, "02:00:00:00:99:99"])
veth_macs = st.sampled_from([None, VETH_MAC, "0a:00:00:00:00:02"])


@given(
    observed_rules=st.lists(rules, max_size=12, unique=True),
    link_mac=macs,
    veth_mac=veth_macs,
    claimed_vlans=st.sets(st.sampled_from([6, 7])),
    claimed_ips=st.sets(st.sampled_from(["10.0.1.20", "10.0.1.21"])),
    claimed_veths=st.sets(st.sampled_from([VETH, "vlanaaaaaaaaaaa"])),
)
def test_a_teardown_never_touches_what_another_pod_holds(
    observed_rules, link_mac, veth_mac, claimed_vlans, claimed_ips, claimed_veths
):
    claims = Claims(frozenset(claimed_vlans), frozenset(claimed_ips), frozenset(claimed_veths))
    observed = ObservedBranch(link_mac, veth_mac, tuple(observed_rules), pod_main_route_oif=VETH)
    plan = plan_teardown(TARGET, observed, claims)
    vlan_taken = 6 in claimed_vlans or link_mac == "02:00:00:00:99:99"
    veth_taken = VETH in claimed_veths or veth_mac == "0a:00:00:00:00:02"
    # Only observed objects of this pod are ever deleted.
    assert set(plan.delete_rules) <= set(observed_rules)
    for rule in plan.delete_rules:
        assert rule.table in (106, 254) and rule.priority in (10, 512, 1536)
        if rule.priority == 10:
            assert not vlan_taken or (rule.iifname == VETH and not veth_taken)
        else:
            assert "10.0.1.20" not in claimed_ips
            assert "10.0.1.20/32" in (rule.dst, rule.src)
    if vlan_taken:
        assert "vlan.eth.6" not in plan.delete_links
        assert not any(route.table == 106 for route in plan.delete_routes)
    if veth_taken:
        assert VETH not in plan.delete_links
    if "10.0.1.20" in claimed_ips or veth_taken:
        assert not any(route.table == 254 for route in plan.delete_routes)
    # Unrelated objects are never selected.
    assert not any(rule.table in (105, 107) for rule in plan.delete_rules)


@given(observed_rules=st.lists(rules, max_size=12, unique=True), link_mac=macs, veth_mac=veth_macs)
def test_teardown_of_an_unclaimed_pod_removes_every_rule_of_its_table_and_ip(
    observed_rules, link_mac, veth_mac
):
    observed = ObservedBranch(
        link_mac if link_mac != "02:00:00:00:99:99" else MAC, veth_mac, tuple(observed_rules)
    )
    plan = plan_teardown(TARGET, observed, Claims())
    expected = {
        r
        for r in observed_rules
        if (r.priority == 10 and r.table == 106)
        or (r.priority == 512 and r.table == 254 and r.dst == "10.0.1.20/32")
        or (r.priority == 1536 and r.table == 106 and r.src == "10.0.1.20/32")
    }
    assert set(plan.delete_rules) == expected
