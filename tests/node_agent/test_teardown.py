from hypothesis import given
from hypothesis import strategies as st
from sgp_node_agent.model import Route, Rule
from sgp_node_agent.teardown import Claims, ObservedBranch, TeardownTarget, plan_teardown

VETH = "vlan0f6c2b95910"
MAC = "02:00:00:00:06:06"
VETH_MAC = "0a:00:00:00:00:01"
TARGET = TeardownTarget("old", 6, "10.0.1.20", VETH, MAC, VETH_MAC)
OWN_STRICT = (Rule(10, 106, iifname="vlan.eth.6"), Rule(10, 106, iifname=VETH))
OWN_STANDARD = (Rule(512, 254, dst="10.0.1.20/32"), Rule(1536, 106, src="10.0.1.20/32"))
UNRELATED = (
    Rule(10, 107, iifname="vlan.eth.7"),
    Rule(512, 254, dst="10.0.1.99/32"),
    Rule(1536, 107, src="10.0.1.99/32"),
    Rule(1024, 254, fwmark=128, fwmask=128),
    Rule(20, 255),
)


def selected(plan, rules):
    return {rule for rule in rules if any(selector.matches(rule) for selector in plan.delete_rules)}


def test_own_pod_is_torn_down_like_upstream():
    plan = plan_teardown(TARGET, ObservedBranch(MAC, VETH_MAC), Claims())
    assert plan.delete_links == ("vlan.eth.6",)  # the host veth goes with the pod netns
    assert plan.delete_rules == (
        Rule(10, 106),
        Rule(512, 254, dst="10.0.1.20/32"),
        Rule(1536, 106, src="10.0.1.20/32"),
    )
    assert selected(plan, OWN_STRICT + OWN_STANDARD + UNRELATED) == set(OWN_STRICT + OWN_STANDARD)
    assert Route(106, "10.0.1.20/32", VETH, scope="link") in plan.delete_routes
    assert Route(254, "10.0.1.20/32", VETH, scope="link") in plan.delete_routes
    assert plan.kept == ()


def test_vlan_reused_by_a_new_pod_with_another_branch_mac_is_left_alone():
    new_veth = "vlanaaaaaaaaaaa"
    live = (Rule(10, 106, iifname="vlan.eth.6"), Rule(10, 106, iifname=new_veth))
    plan = plan_teardown(TARGET, ObservedBranch("02:00:00:00:99:99", None), Claims())
    assert "vlan.eth.6" not in plan.delete_links
    assert selected(plan, (*live, Rule(10, 106, iifname=VETH))) == {Rule(10, 106, iifname=VETH)}
    assert not any(route.table == 106 for route in plan.delete_routes)
    assert any("another pod" in reason for reason in plan.kept)


def test_same_pod_name_and_recycled_eni_is_protected_by_the_records():
    # A re-created pod with the same name (same host veth name), same VLAN and same branch MAC:
    # only the agent's records can tell the old sandbox from the new one.
    claims = Claims(
        vlan_ids=frozenset({6}), pod_ips=frozenset({"10.0.1.20"}), host_veths=frozenset({VETH})
    )
    plan = plan_teardown(TARGET, ObservedBranch(MAC, "0a:00:00:00:00:02"), claims)
    assert plan.empty


def test_a_late_del_removes_its_rule_into_its_old_table_when_only_the_ip_was_reused():
    # Pod C got this pod's IP with VLAN 7: C's rule points at table 107, so a rule from the IP
    # into table 106 can only be this pod's, and it would send C's egress into table 106.
    ours = Rule(1536, 106, src="10.0.1.20/32")
    new_owner = (Rule(512, 254, dst="10.0.1.20/32"), Rule(1536, 107, src="10.0.1.20/32"))
    claims = Claims(vlan_ids=frozenset({7}), pod_ips=frozenset({"10.0.1.20"}))
    plan = plan_teardown(TARGET, ObservedBranch(MAC, VETH_MAC), claims)
    assert selected(plan, (ours, *new_owner, *UNRELATED)) == {ours}
    assert not any(route.table == 254 for route in plan.delete_routes)
    # The same rule is the new owner's when it holds the VLAN id too: then it stays.
    both = Claims(vlan_ids=frozenset({6}), pod_ips=frozenset({"10.0.1.20"}))
    plan = plan_teardown(TARGET, ObservedBranch(MAC, VETH_MAC), both)
    assert selected(plan, (ours, *new_owner)) == set()
    assert any("10.0.1.20" in reason for reason in plan.kept)


def test_host_veth_with_another_mac_is_not_ours():
    plan = plan_teardown(TARGET, ObservedBranch(None, "0a:00:00:00:00:02"), Claims())
    assert VETH not in plan.delete_links
    assert not plan.delete_routes


def test_upstream_shaped_prev_result_without_macs_behaves_like_upstream():
    target = TeardownTarget("old", 6, "10.0.1.20", VETH)
    plan = plan_teardown(target, ObservedBranch("02:00:00:00:99:99", VETH_MAC), Claims())
    assert plan.delete_links == (
        "vlan.eth.6",
    )  # no MAC to compare: the host veth stays to the runtime
    assert selected(plan, OWN_STRICT + UNRELATED) == set(OWN_STRICT)


def test_nothing_observed_still_deletes_by_selector_and_skips_routes():
    plan = plan_teardown(TARGET, ObservedBranch(), Claims())
    assert plan.delete_links == () and plan.delete_routes == ()
    assert len(plan.delete_rules) == 3


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
    present=st.lists(rules, max_size=12, unique=True),
    link_mac=macs,
    veth_mac=veth_macs,
    claimed_vlans=st.sets(st.sampled_from([6, 7])),
    claimed_ips=st.sets(st.sampled_from(["10.0.1.20", "10.0.1.21"])),
    claimed_veths=st.sets(st.sampled_from([VETH, "vlanaaaaaaaaaaa"])),
)
def test_a_teardown_never_touches_what_another_pod_holds(
    present, link_mac, veth_mac, claimed_vlans, claimed_ips, claimed_veths
):
    claims = Claims(frozenset(claimed_vlans), frozenset(claimed_ips), frozenset(claimed_veths))
    plan = plan_teardown(TARGET, ObservedBranch(link_mac, veth_mac), claims)
    vlan_taken = 6 in claimed_vlans or link_mac == "02:00:00:00:99:99"
    veth_taken = VETH in claimed_veths or veth_mac == "0a:00:00:00:00:02"
    for rule in selected(plan, present):
        assert (rule.priority, rule.table) in ((10, 106), (512, 254), (1536, 106))
        if rule.priority == 10:
            assert not vlan_taken or (rule.iifname == VETH and not veth_taken)
        else:
            # a rule from the IP into table 106 is ours unless the VLAN id went along with it
            assert "10.0.1.20" not in claimed_ips or (rule.priority == 1536 and not vlan_taken)
            assert "10.0.1.20/32" in (rule.dst, rule.src)
    if vlan_taken:
        assert "vlan.eth.6" not in plan.delete_links
        assert not any(route.table == 106 for route in plan.delete_routes)
    if veth_taken:
        assert VETH not in plan.delete_links and not plan.delete_routes
    if "10.0.1.20" in claimed_ips:
        assert not any(route.table == 254 for route in plan.delete_routes)
    assert all(route.oif == VETH for route in plan.delete_routes)


@given(present=st.lists(rules, max_size=12, unique=True), veth_mac=veth_macs)
def test_teardown_of_an_unclaimed_pod_selects_every_rule_of_its_table_and_ip(present, veth_mac):
    plan = plan_teardown(TARGET, ObservedBranch(MAC, veth_mac), Claims())
    expected = {
        r
        for r in present
        if (r.priority == 10 and r.table == 106)
        or (r.priority == 512 and r.table == 254 and r.dst == "10.0.1.20/32")
        or (r.priority == 1536 and r.table == 106 and r.src == "10.0.1.20/32")
    }
    assert selected(plan, present) == expected
