from node_factories import healthy_snapshot, record
from sgp_node_agent.model import Route, Rule
from sgp_node_agent.observe import LinkState
from sgp_node_agent.plan import plan_pod
from sgp_node_agent.reconcile import (
    HostSnapshot,
    compare_pod,
    find_leftovers,
    inputs_from_record,
    plan_repair,
    stale_records,
)


def test_a_fully_plumbed_pod_compares_clean():
    for mode in ("strict", "standard"):
        rec = record(mode=mode)
        status = compare_pod(rec, healthy_snapshot(rec), inputs_from_record(rec))
        assert (status.link_up, status.host_veth_up, status.rules_ok, status.routes_ok) == (
            True,
            True,
            True,
            True,
        )
        assert status.missing == ()


def test_missing_rule_route_and_down_link_are_named():
    rec = record()
    snap = healthy_snapshot(rec)
    plan = plan_pod(inputs_from_record(rec))
    links = dict(snap.links)
    links["vlan.eth.7"] = LinkState("vlan.eth.7", 10, rec.branch_mac, False, "vlan")
    broken = HostSnapshot(links, snap.rules[1:], snap.routes[1:])
    status = compare_pod(rec, broken, inputs_from_record(rec))
    assert not status.link_up and not status.rules_ok and not status.routes_ok
    assert "link vlan.eth.7 is down" in status.missing
    assert f"rule {plan.rules[0].describe()} is missing" in status.missing
    assert f"route {plan.table_routes[0].describe()} is missing" in status.missing


def test_branch_link_with_a_foreign_mac_is_not_ours():
    rec = record()
    snap = healthy_snapshot(rec)
    links = dict(snap.links)
    links["vlan.eth.7"] = LinkState("vlan.eth.7", 10, "02:99:99:99:99:99", True, "vlan")
    status = compare_pod(rec, HostSnapshot(links, snap.rules, snap.routes), inputs_from_record(rec))
    assert not status.link_up
    assert any("has MAC" in item for item in status.missing)


def test_repair_restores_host_side_objects_but_not_without_the_host_veth():
    rec = record()
    snap = healthy_snapshot(rec)
    plan = plan_pod(inputs_from_record(rec))
    without_link = dict(snap.links)
    del without_link["vlan.eth.7"]
    repair = plan_repair(rec, HostSnapshot(without_link, snap.rules[:1], ()), plan)
    assert repair.recreate_link == plan.branch_link
    assert repair.set_up == ("vlan.eth.7",)
    assert repair.routes == plan.host_routes
    assert repair.rules == plan.rules[1:]
    assert plan_repair(rec, snap, plan).empty
    without_veth = dict(snap.links)
    del without_veth[plan.host_veth]
    assert plan_repair(rec, HostSnapshot(without_veth, (), ()), plan).empty


def test_records_of_pods_that_are_gone_are_stale():
    alive, gone = record("a", uid="u-a"), record("b", uid="u-b", vlan_id=8, name="blue")
    assert stale_records([alive, gone], {"u-a"}) == [gone]


def test_leftovers_are_only_what_no_record_accounts_for():
    live = record("a", mode="standard")
    stray_link = LinkState("vlan.eth.9", 90, "02:00:00:00:09:09", True, "vlan")
    stray_rules = (
        Rule(10, 109, iifname="vlan.eth.9"),
        Rule(1536, 109, src="10.9.9.9/32"),
        Rule(512, 254, dst="10.9.9.9/32"),
    )
    untouchable = (
        Rule(512, 254, dst="10.0.0.21/32"),  # an ordinary pod of the regular CNI
        Rule(1536, 2, src="10.0.0.22/32"),  # secondary-ENI table of the regular CNI
        Rule(1024, 254, fwmark=0x80, fwmask=0x80),
        Rule(0, 255),
    )
    stray_route = Route(109, "0.0.0.0/0", "vlan.eth.9", gateway="10.9.9.1")
    snap = healthy_snapshot(
        live,
        extra_links=(stray_link, LinkState("eth0", 2, "02:aa:aa:aa:aa:aa", True, "veth")),
        extra_rules=stray_rules + untouchable,
        extra_routes=(stray_route, Route(254, "0.0.0.0/0", "eth0", gateway="10.0.0.1")),
    )
    leftovers = find_leftovers([live], snap)
    assert leftovers.delete_links == ("vlan.eth.9",)
    assert set(leftovers.delete_rules) == set(stray_rules)
    assert leftovers.delete_routes == (stray_route,)
    assert find_leftovers([live], healthy_snapshot(live)).empty


def test_a_link_retired_by_del_is_a_leftover_unless_its_deletion_is_pending():
    live = record("a", mode="strict")
    retired = LinkState("vlan.del.9", 91, "02:00:00:00:09:09", True, "vlan")
    through_it = Route(109, "0.0.0.0/0", "vlan.del.9", gateway="10.9.9.1")
    snap = healthy_snapshot(live, extra_links=(retired,), extra_routes=(through_it,))
    after_a_crash = find_leftovers([live], snap)
    assert after_a_crash.delete_links == ("vlan.del.9",)
    assert after_a_crash.delete_routes == (through_it,)
    assert find_leftovers([live], snap, deleting=frozenset({"vlan.del.9"})).empty


def test_records_superseded_by_a_newer_sandbox_of_the_same_pod_are_stale():
    from dataclasses import replace

    old = replace(record("old", uid="u-a"), released=("host_veth", "ip", "vlan"))
    new = record("new", uid="u-a")
    assert stale_records([old, new], {"u-a"}) == [old]
    half = replace(record("half", uid="u-a"), released=("vlan",))
    assert stale_records([half], {"u-a"}) == []


def test_a_record_newer_than_the_pod_listing_is_not_judged_by_it():
    from dataclasses import replace

    fresh = replace(record("fresh", uid="u-new"), created_at=200.0)
    old = replace(record("old", uid="u-gone", vlan_id=8, name="blue"), created_at=50.0)
    assert stale_records([fresh, old], set(), listed_at=100.0) == [old]


def bare_of(rec):
    plan = plan_pod(inputs_from_record(rec))
    return HostSnapshot({plan.host_veth: healthy_snapshot(rec).links[plan.host_veth]}, (), ())


def handed_over_pair(mode="strict"):
    """An old record whose VLAN id went to a newer pod (another branch MAC, IP and name)."""
    from dataclasses import replace

    old = replace(record("old", mode=mode, uid="u-old"), released=("vlan",))
    new = record(
        "new", mode=mode, ip="192.168.120.77", mac="00:00:5e:00:53:bb", name="blue", uid="u-new"
    )
    return old, new


def test_repair_never_reclaims_a_vlan_handed_over_to_a_newer_pod():
    for mode in ("strict", "standard"):
        old, new = handed_over_pair(mode)
        snap = healthy_snapshot(old, new)
        links = dict(snap.links)
        links["vlan.eth.7"] = LinkState("vlan.eth.7", 10, new.branch_mac, True, "vlan")
        snap = HostSnapshot(links, snap.rules, snap.routes)
        old_plan = plan_pod(inputs_from_record(old))
        assert compare_pod(old, snap, inputs_from_record(old)).missing  # its MAC is gone
        repair = plan_repair(old, snap, old_plan)
        assert repair.recreate_link is None
        assert "vlan.eth.7" not in repair.set_up
        assert not any(route.table == 107 or route.oif == "vlan.eth.7" for route in repair.routes)
        assert not any(rule.table == 107 for rule in repair.rules)
        assert any("vlan 7" in reason for reason in repair.kept)
        # even with every one of its objects gone, nothing of table 107 comes back for it
        repair = plan_repair(old, bare_of(old), old_plan)
        assert repair.recreate_link is None and "vlan.eth.7" not in repair.set_up
        assert not any(rule.table == 107 for rule in repair.rules)
        assert not any(route.table == 107 for route in repair.routes)


def test_repair_never_reclaims_an_ip_or_host_veth_handed_over_to_a_newer_pod():
    from dataclasses import replace

    ip_gone = replace(record("old", mode="standard"), released=("ip",))
    plan = plan_pod(inputs_from_record(ip_gone))
    repair = plan_repair(ip_gone, bare_of(ip_gone), plan)
    assert repair.recreate_link == plan.branch_link  # the VLAN is still its own
    host = f"{ip_gone.pod_ip}/32"
    assert not any(host in (rule.src, rule.dst) for rule in repair.rules)
    assert not any(route.dst == host for route in repair.routes)
    assert any(ip_gone.pod_ip in reason for reason in repair.kept)

    veth_gone = replace(record("old"), released=("host_veth",))
    plan = plan_pod(inputs_from_record(veth_gone))
    assert plan_repair(veth_gone, bare_of(veth_gone), plan).empty
