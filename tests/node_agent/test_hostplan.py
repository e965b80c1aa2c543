from sgp_node_agent.hostplan import (
    IP_FORWARD,
    LOCAL_AT_0,
    LOCAL_AT_20,
    TCP_EARLY_DEMUX,
    HostInputs,
    HostObserved,
    fwmark_rule,
    nft_script,
    plan_host,
    plan_uninstall,
)
from sgp_node_agent.model import Rule

RP = "net/ipv4/conf/eth0/rp_filter"
FRESH = HostObserved(
    rules=(LOCAL_AT_0, Rule(32766, 254), Rule(32767, 253)),
    sysctls={RP: "1", TCP_EARLY_DEMUX: "1", IP_FORWARD: "0"},
)


def inputs(mode="strict", demux_off=True, **changes):
    values = dict(
        mode=mode,
        primary_interface="eth0",
        primary_ip="10.0.0.10",
        veth_prefix="eni",
        connmark=0x80,
        disable_tcp_early_demux=demux_off,
        vpc_cidrs=("10.0.0.0/16",),
    )
    values.update(changes)
    return HostInputs(**values)


def applied(observed: HostObserved, plan) -> HostObserved:
    rules = [r for r in observed.rules if r not in plan.delete_rules] + list(plan.add_rules)
    sysctls = dict(observed.sysctls)
    sysctls.update({s.path: s.value for s in plan.sysctls})
    return HostObserved(tuple(rules), sysctls)


def test_strict_setup_moves_local_rule_and_adds_fwmark_rule():
    plan = plan_host(inputs(), FRESH)
    assert plan.add_rules == (Rule(1024, 254, fwmark=0x80, fwmask=0x80), LOCAL_AT_20)
    assert plan.delete_rules == (LOCAL_AT_0,)
    assert {s.path: s.value for s in plan.sysctls} == {
        RP: "2",
        TCP_EARLY_DEMUX: "0",
        IP_FORWARD: "1",
    }


def test_standard_setup_keeps_local_rule_at_zero_and_early_demux_on_by_default():
    plan = plan_host(inputs("standard", demux_off=False), FRESH)
    assert plan.add_rules == (fwmark_rule(0x80),)
    assert plan.delete_rules == ()
    assert TCP_EARLY_DEMUX not in {s.path for s in plan.sysctls}  # already 1: upstream forces 1


def test_missing_sysctl_is_skipped_like_upstream():
    observed = HostObserved(FRESH.rules, {RP: "1", TCP_EARLY_DEMUX: None, IP_FORWARD: "1"})
    assert [s.path for s in plan_host(inputs(), observed).sysctls] == [RP]


def test_setup_twice_changes_nothing_the_second_time_and_keeps_the_originals():
    first = plan_host(inputs(), FRESH)
    after = applied(FRESH, first)
    second = plan_host(inputs(), after, first.undo)
    assert (second.add_rules, second.delete_rules, second.sysctls) == ((), (), ())
    assert second.undo == first.undo
    assert second.undo["sysctls"] == {RP: "1", TCP_EARLY_DEMUX: "1", IP_FORWARD: "0"}


def test_uninstall_restores_what_setup_found():
    for mode in ("strict", "standard"):
        plan = plan_host(inputs(mode), FRESH)
        after = applied(FRESH, plan)
        undo = plan_uninstall(plan.undo, after)
        restored = applied(after, undo)
        assert set(restored.rules) == set(FRESH.rules)
        assert restored.sysctls == FRESH.sysctls
        assert "delete table ip sgp-node-agent" in undo.nft_script


def test_nft_rules_exclude_vlan_links_from_snat_and_mark_only_standard_pods():
    script = nft_script(inputs())
    assert 'oifname "vlan*" return' in script
    assert "ip daddr @vpc-cidrs return" in script
    assert "snat to 10.0.0.10" in script
    assert (
        'iifname "eni*" ip daddr != @vpc-cidrs fib daddr type != local ct mark set ct mark | 0x80'
        in script
    )
    assert 'iifname "vlan*" ct mark & 0x80 == 0x80 meta mark set meta mark | 0x80' in script
    assert script.startswith("add table ip sgp-node-agent\ndelete table ip sgp-node-agent\n")


def test_external_snat_leaves_snat_to_someone_else():
    assert "snat to" not in nft_script(inputs(external_snat=True))
