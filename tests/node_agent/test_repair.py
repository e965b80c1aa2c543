"""The repair pass against a recorded host: what it would delete and re-create, no netlink."""

from dataclasses import replace

import pytest
from node_factories import healthy_snapshot, record
from sgp_node_agent import repair
from sgp_node_agent.observe import LinkState
from sgp_node_agent.reconcile import HostSnapshot
from sgp_node_agent.repair import repair_pass
from sgp_node_agent.state import RecordStore
from sgp_node_agent.teardown import ObservedBranch


class RecordingHost:
    """Stands in for the executor: serves one snapshot and records what the pass applies."""

    def __init__(self, snapshot: HostSnapshot) -> None:
        self.snapshot = snapshot
        self.teardowns = []
        self.repairs = []

    def observe_branch(self, target):
        link = self.snapshot.links.get(f"vlan.eth.{target.vlan_id}")
        veth = self.snapshot.links.get(target.host_veth or "")
        return ObservedBranch(link and link.mac, veth and veth.mac)

    def apply_teardown(self, plan):
        self.teardowns.append(plan)
        links = {k: v for k, v in self.snapshot.links.items() if k not in plan.delete_links}
        self.snapshot = replace(self.snapshot, links=links)

    def apply_repair(self, plan):
        self.repairs.append(plan)
        links = dict(self.snapshot.links)
        for name in plan.set_up:
            links[name] = replace(links[name], up=True)
        self.snapshot = replace(self.snapshot, links=links)


@pytest.fixture(autouse=True)
def snapshot_of_the_recording_host(monkeypatch):
    monkeypatch.setattr(repair, "snapshot_host", lambda host: host.snapshot)


def vlan_handed_over(tmp_path, old_veth_up=True):
    """Records of an old pod whose VLAN id 7 a newer pod took over, and the newer pod's host."""
    store = RecordStore(tmp_path)
    old = replace(record("old", uid="u-old"), released=("vlan",))
    new = record("new", ip="192.168.120.77", mac="00:00:5e:00:53:bb", name="blue", uid="u-new")
    store.put(old)
    store.put(new)
    snap = healthy_snapshot(old, new)
    links = dict(snap.links)
    links["vlan.eth.7"] = LinkState("vlan.eth.7", 10, new.branch_mac, True, "vlan")
    links[old.host_veth] = replace(links[old.host_veth], up=old_veth_up)
    return store, RecordingHost(HostSnapshot(links, snap.rules, snap.routes))


def test_a_pass_without_the_pod_list_leaves_the_newer_owner_of_a_vlan_alone(tmp_path):
    store, host = vlan_handed_over(tmp_path)

    result = repair_pass(host, store, live_pods=None)

    assert not any("vlan.eth.7" in plan.delete_links for plan in host.teardowns)
    assert not any(plan.recreate_link is not None for plan in host.repairs)
    assert not any("vlan.eth.7" in plan.set_up for plan in host.repairs)
    assert not any(rule.table == 107 for plan in host.repairs for rule in plan.rules)
    assert not any(route.table == 107 for plan in host.repairs for route in plan.routes)
    assert result.repaired == []
    old_status = next(s for s in result.statuses if s.record.container_id == "old")
    assert any("another pod" in problem for problem in old_status.missing)


def test_a_partial_repair_lists_only_what_it_repaired(tmp_path):
    store, host = vlan_handed_over(tmp_path, old_veth_up=False)
    result = repair_pass(host, store, live_pods=None)
    old_veth = store.get("old").host_veth
    assert [plan.set_up for plan in host.repairs] == [(old_veth,)]
    assert result.repaired == [f"old: link {old_veth} is down"]


def test_no_leftover_is_removed_while_a_record_file_is_unreadable(tmp_path, caplog):
    live = record("live", uid="u-live")
    unreadable = record("hidden", vlan_id=8, name="blue", mac="00:00:5e:00:53:08", uid="u-hid")
    gone = record("gone", vlan_id=9, name="red", mac="00:00:5e:00:53:09", uid="u-gone")
    RecordStore(tmp_path).put(live)
    RecordStore(tmp_path).put(gone)
    (tmp_path / "hidden.json").write_text('{"container_id": "hidden", "vlan_id": ')
    host = RecordingHost(healthy_snapshot(live, unreadable, gone))  # the hidden pod is plumbed
    live_pods = [{"metadata": {"uid": "u-live"}}, {"metadata": {"uid": "u-hid"}}]

    with caplog.at_level("WARNING"):
        result = repair_pass(host, RecordStore(tmp_path), live_pods)

    assert host.teardowns == [] and result.removed == []
    assert [line.split(":")[0] for line in result.unreadable] == ["hidden.json"]
    assert "hidden.json" in caplog.text
    assert {s.record.container_id for s in result.statuses} == {"live", "gone"}

    (tmp_path / "hidden.json").unlink()  # once every file reads, removal resumes
    result = repair_pass(host, RecordStore(tmp_path), live_pods)
    assert [plan.delete_links for plan in host.teardowns] == [("vlan.eth.9",), ("vlan.eth.8",)]
    assert result.unreadable == []
