"""Pod triage and VLAN reservation (reference §4.1, §4.2)."""

from hypothesis import given
from hypothesis import strategies as st

from apps.controller.core.model import BranchSlot, PodFacts
from apps.controller.core.pod_plan import (
    AtCapacity,
    Attach,
    Ignore,
    NodeStatus,
    Release,
    Requeue,
    Reserve,
    Resume,
    plan_reservation,
    triage_pod,
)

READY = NodeStatus(exists=True, managed=True, trunk_ready=True, branch_limit=9)


def pod(**overrides):
    values = dict(namespace="ns", name="p", uid="uid-1", node_name="n1", phase="Running",
                  requested_enis=1)
    values.update(overrides)
    return PodFacts(**values)


def test_unscheduled_pod_is_ignored_whatever_the_node():
    assert isinstance(triage_pod(pod(node_name=""), READY), Ignore)
    assert isinstance(triage_pod(pod(node_name=""), None), Ignore)


def test_annotated_or_not_requesting_pod_is_ignored():
    assert triage_pod(pod(annotated=True), READY) == Ignore("already annotated")
    assert isinstance(triage_pod(pod(requested_enis=0), READY), Ignore)


def test_completed_deleting_or_nodeless_pod_is_released():
    for facts, node in [(pod(phase="Succeeded"), READY), (pod(phase="Failed"), READY),
                        (pod(deleting=True), READY), (pod(), None),
                        (pod(), NodeStatus(False, False, False))]:
        assert isinstance(triage_pod(facts, node), Release)


def test_unmanaged_or_uninitialised_node_requeues_after_one_second():
    for node in [NodeStatus(True, False, False), NodeStatus(True, True, False, 9)]:
        decision = triage_pod(pod(), node)
        assert isinstance(decision, Requeue) and decision.after_seconds == 1.0


def test_ready_node_attaches_the_requested_count():
    assert triage_pod(pod(requested_enis=1), READY) == Attach(1)


def slots(*pairs, uid_prefix="other"):
    return [BranchSlot(vlan, f"{uid_prefix}{vlan}", state) for vlan, state in pairs]


def test_reserve_takes_the_lowest_free_vlan_across_all_holding_states():
    existing = slots((1, "attached"), (2, "cooling"), (4, "deleting"), (3, "deleted"))
    assert plan_reservation("uid-1", existing, 9, 60) == Reserve(3)


def test_leaked_branches_keep_their_vlan():
    assert plan_reservation("uid-1", slots((1, "leaked")), 9, 60) == Reserve(2)


def test_full_trunk_waits_out_the_cooldown():
    existing = slots(*[(v, "attached") for v in range(1, 6)], *[(v, "cooling")
                                                              for v in range(6, 10)])
    decision = plan_reservation("uid-1", existing, 9, 45)
    assert decision == AtCapacity(45, in_use=5, cooling=4)


def test_an_earlier_attempt_of_the_same_pod_is_resumed_not_duplicated():
    existing = [*slots((1, "attached")), BranchSlot(2, "uid-1", "creating")]
    assert plan_reservation("uid-1", existing, 9, 60) == Resume(2, "creating")
    existing = [BranchSlot(5, "uid-1", "attached")]
    assert plan_reservation("uid-1", existing, 9, 60) == Resume(5, "attached")


def test_a_cooling_branch_of_the_same_uid_is_not_resumed():
    existing = [BranchSlot(1, "uid-1", "cooling")]
    assert plan_reservation("uid-1", existing, 9, 60) == Reserve(2)


states = st.sampled_from(["creating", "attached", "cooling", "deleting", "leaked", "deleted"])


@given(st.dictionaries(st.integers(1, 120), states, max_size=120), st.integers(1, 120))
def test_reservation_never_exceeds_capacity_or_reuses_a_held_vlan(by_vlan, limit):
    existing = [BranchSlot(v, f"o{v}", s) for v, s in by_vlan.items()]
    decision = plan_reservation("me", existing, limit, 60)
    held = {v for v, s in by_vlan.items() if s != "deleted"}
    if isinstance(decision, Reserve):
        assert decision.vlan_id not in held
        assert 1 <= decision.vlan_id <= limit
        assert len(held) + 1 <= limit
        assert decision.vlan_id == min(set(range(1, limit + 1)) - held)
    else:
        assert isinstance(decision, AtCapacity)
        assert len(held) >= limit or not (set(range(1, limit + 1)) - held)
