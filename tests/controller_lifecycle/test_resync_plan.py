"""Restart resync decisions (reference §4.8): the four upstream cases, a wiped database, and
properties over random worlds (no VLAN or ENI held twice, running pods keep their ENI)."""

from __future__ import annotations

import datetime as dt
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from apps.controller.core.resync_plan import (
    EC2Branch,
    PodView,
    RowView,
    plan_resync,
)

T0 = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)


def pod(uid, *enis, phase="Running", deleting=False, requests=True):
    return PodView(uid, "default", f"pod-{uid}", phase, deleting, requests, bool(enis),
                   tuple(enis))


def test_running_across_restart_is_kept_with_its_vlan():
    plan = plan_resync([EC2Branch("eni-1", 3, "assoc-1", 3)], [pod("p1", "eni-1")],
                       [RowView(1, "eni-1", 3, "attached", "p1")])
    assert [k.row_id for k in plan.keep] == [1]
    assert plan.summary() == {**dict.fromkeys(plan.summary(), 0), "keep": 1}


def test_running_pod_with_database_wiped_is_adopted_not_recreated():
    plan = plan_resync([EC2Branch("eni-1", 3, "assoc-1", 3)], [pod("p1", "eni-1")], [])
    assert [(a.eni_id, a.pod_uid, a.vlan_id, a.association_id) for a in plan.adopt] == [
        ("eni-1", "p1", 3, "assoc-1")]
    assert not plan.attach and not plan.orphan and not plan.cool


def test_pod_deleted_while_down_cools_its_branch():
    plan = plan_resync([EC2Branch("eni-1", 3, "assoc-1", 3)], [],
                       [RowView(1, "eni-1", 3, "attached", "p1")])
    assert [c.row_id for c in plan.cool] == [1]


def test_pod_deleted_while_down_and_database_wiped_is_an_orphan():
    plan = plan_resync([EC2Branch("eni-1", 3, "assoc-1", 3)], [], [])
    assert [(o.eni_id, o.vlan_id) for o in plan.orphan] == [("eni-1", 3)]


def test_pod_completed_while_down_releases_its_branch():
    for phase in ("Succeeded", "Failed"):
        branches = [EC2Branch("eni-1", 3, "assoc-1", 3)]
        plan = plan_resync(branches, [pod("p1", "eni-1", phase=phase)],
                           [RowView(1, "eni-1", 3, "attached", "p1")])
        assert [c.row_id for c in plan.cool] == [1]
        wiped = plan_resync(branches, [pod("p1", "eni-1", phase=phase)], [])
        assert [o.eni_id for o in wiped.orphan] == ["eni-1"]
        assert not plan.attach and not wiped.attach


def test_pod_created_while_down_is_to_be_attached():
    plan = plan_resync([], [pod("p1"), pod("p2", requests=False)], [])
    assert [(a.pod_uid, a.name) for a in plan.attach] == [("p1", "pod-p1")]


def test_row_whose_eni_ec2_lost_is_forgotten_and_its_vlan_reusable():
    plan = plan_resync([EC2Branch("eni-2", 3, "", None)], [],
                       [RowView(1, "eni-1", 3, "cooling", "p1")])
    assert [f.row_id for f in plan.forget] == [1]
    assert [(o.eni_id, o.vlan_id) for o in plan.orphan] == [("eni-2", 3)]


def test_annotation_naming_a_missing_eni_is_reported():
    plan = plan_resync([], [pod("p1", "eni-9")], [])
    assert [(s.pod_uid, s.eni_id) for s in plan.stale] == [("p1", "eni-9")]
    assert not plan.attach  # annotated: the webhook protects it; no second ENI


def test_orphan_without_vlan_is_left_for_the_sweep():
    plan = plan_resync([EC2Branch("eni-1", None, "", None)], [], [])
    assert [s.eni_id for s in plan.skip] == ["eni-1"] and not plan.orphan


def test_unassociated_orphan_on_a_held_vlan_is_left_for_the_sweep():
    branches = [EC2Branch("eni-1", 3, "assoc-1", 3), EC2Branch("eni-2", 3, "", None)]
    plan = plan_resync(branches, [pod("p1", "eni-1")], [])
    assert [a.eni_id for a in plan.adopt] == ["eni-1"]
    assert [s.eni_id for s in plan.skip] == ["eni-2"]


def test_association_vlan_wins_over_the_tag():
    plan = plan_resync([EC2Branch("eni-1", 7, "assoc-1", 4)], [pod("p1", "eni-1")], [])
    assert plan.adopt[0].vlan_id == 4


def test_attach_in_progress_is_kept_and_asked_for_again():
    rows = [RowView(1, "eni-1", 3, "creating", "p1"), RowView(2, "", 4, "creating", "p2")]
    plan = plan_resync([EC2Branch("eni-1", 3, "", None)], [pod("p1"), pod("p2")], rows)
    assert [k.row_id for k in plan.keep] == [1]
    assert not plan.cool and not plan.orphan and not plan.forget
    # the attach task may be lost (broker restart): ask again; it resumes the reservation
    assert [a.pod_uid for a in plan.attach] == ["p1", "p2"]


def test_creating_row_of_a_gone_pod_cools():
    plan = plan_resync([], [], [RowView(2, "", 4, "creating", "p2")])
    assert [c.row_id for c in plan.cool] == [2]


def test_rows_written_after_the_snapshot_are_left_alone():
    rows = [RowView(1, "eni-new", 5, "creating", "p9", T0 + dt.timedelta(seconds=1))]
    plan = plan_resync([], [], rows, snapshot_at=T0)
    assert [k.row_id for k in plan.keep] == [1] and not plan.forget and not plan.cool


def test_branch_made_after_the_ec2_read_is_no_stale_annotation():
    rows = [RowView(1, "eni-new", 5, "attached", "p1", T0 + dt.timedelta(seconds=1))]
    plan = plan_resync([], [pod("p1", "eni-new")], rows, snapshot_at=T0)
    assert not plan.stale and not plan.forget and not plan.attach


def test_wrongly_cooled_branch_of_a_running_pod_is_restored():
    plan = plan_resync([EC2Branch("eni-1", 3, "assoc-1", 3)], [pod("p1", "eni-1")],
                       [RowView(1, "eni-1", 3, "cooling", "p1")])
    assert [(r.row_id, r.pod_uid, r.vlan_id) for r in plan.restore] == [(1, "p1", 3)]


def test_released_rows_of_orphans_stay_in_the_queue():
    plan = plan_resync([EC2Branch("eni-1", 3, "", None)], [],
                       [RowView(1, "eni-1", 3, "leaked", "p1")])
    assert [k.row_id for k in plan.keep] == [1] and not plan.orphan and not plan.cool


# -- properties ----------------------------------------------------------------------------------
ENIS = [f"eni-{i}" for i in range(8)]
UIDS = [f"p{i}" for i in range(6)]


@st.composite
def worlds(draw):
    in_ec2 = draw(st.lists(st.sampled_from(ENIS), unique=True, max_size=8))
    vlans = draw(st.permutations(range(1, 9)))
    branches = []
    for index, eni_id in enumerate(in_ec2):
        associated = draw(st.booleans())
        tag = draw(st.none() | st.integers(1, 8))
        branches.append(EC2Branch(eni_id, tag, f"assoc-{eni_id}" if associated else "",
                                  vlans[index] if associated else None))
    pods = []
    for uid in draw(st.lists(st.sampled_from(UIDS), unique=True, max_size=6)):
        enis = tuple(draw(st.lists(st.sampled_from(ENIS), unique=True, max_size=2)))
        pods.append(PodView(uid, "ns", uid, draw(st.sampled_from(["Running", "Succeeded"])),
                            draw(st.booleans()), draw(st.booleans()), bool(enis), enis))
    rows = []
    row_vlans = draw(st.permutations(range(1, 9)))
    row_enis = draw(st.lists(st.sampled_from([*ENIS, ""]), max_size=6))
    used = set()
    for index, eni_id in enumerate(row_enis):
        if eni_id and eni_id in used:
            continue
        used.add(eni_id)
        rows.append(RowView(index + 1, eni_id, row_vlans[index],
                            draw(st.sampled_from(["creating", "attached", "cooling",
                                                  "deleting", "leaked"])),
                            draw(st.sampled_from(UIDS))))
    return branches, pods, rows


def final_rows(plan, rows):
    """(row key, eni, vlan, state, pod) of every live row once the plan is applied."""
    by_id = {r.id: r for r in rows}
    result = {}
    forgotten = {f.row_id for f in plan.forget}
    for row in rows:
        if row.id not in forgotten:
            result[row.id] = [row.eni_id, row.vlan_id, row.state, row.pod_uid]
    for cool in plan.cool:
        result[cool.row_id][2] = "cooling"
    for restore in plan.restore:
        result[restore.row_id] = [restore.eni_id, restore.vlan_id, "attached", restore.pod_uid]
    for adopt in plan.adopt:
        result[f"a-{adopt.eni_id}"] = [adopt.eni_id, adopt.vlan_id, "attached", adopt.pod_uid]
    for orphan in plan.orphan:
        result[f"o-{orphan.eni_id}"] = [orphan.eni_id, orphan.vlan_id, "cooling", ""]
    assert set(by_id) - forgotten <= set(result)
    return result


@settings(max_examples=300)
@given(worlds())
def test_resync_invariants(world):
    branches, pods, rows = world
    plan = plan_resync(branches, pods, rows)
    final = final_rows(plan, rows)
    vlans = [v[1] for v in final.values()]
    assert len(vlans) == len(set(vlans)), "a VLAN is held twice"
    enis = [v[0] for v in final.values() if v[0]]
    assert len(enis) == len(set(enis)), "an ENI is tracked twice"
    in_ec2 = {b.eni_id for b in branches}
    assert not {v[0] for v in final.values() if v[0]} - in_ec2, "a row for an ENI EC2 lacks"
    live = {p.uid: p for p in pods if p.live}
    named = {e: p.uid for p in sorted(live.values(), key=lambda p: p.uid)
             for e in reversed(p.annotated_enis)}
    skipped = {s.eni_id for s in plan.skip}
    for eni_id in named:
        if eni_id in in_ec2 and eni_id not in skipped:
            serving = [v for v in final.values() if v[0] == eni_id]
            assert serving and serving[0][2] in ("attached", "creating"), (eni_id, serving)
    for orphan in plan.orphan:
        assert orphan.eni_id not in named
    attach = {a.pod_uid for a in plan.attach}
    assert attach == {p.uid for p in live.values() if p.requests_eni and not p.annotated}
    # the same world in another order gives the same plan
    shuffled = plan_resync(random.sample(branches, len(branches)), random.sample(pods, len(pods)),
                           random.sample(rows, len(rows)))
    assert shuffled.summary() == plan.summary()
