"""VLAN allocation and the capacity check (reference §4.3, §4.2 step 5b, §3.4)."""

from hypothesis import given
from hypothesis import strategies as st

from apps.controller.core.capacity import capacity_patch, has_capacity, occupancy
from apps.controller.core.constants import MAX_VLAN_ID, POD_ENI
from apps.controller.core.model import BranchSlot
from apps.controller.core.vlan import lowest_free_vlan, vlan_ceiling


def test_first_vlan_is_one():
    assert lowest_free_vlan([]) == 1


def test_lowest_gap_is_taken():
    assert lowest_free_vlan([1, 2, 4, 5]) == 3


def test_freed_vlan_is_reused_first():
    assert lowest_free_vlan([2, 3]) == 1


def test_all_taken_gives_none():
    assert lowest_free_vlan(range(1, MAX_VLAN_ID + 1)) is None


def test_ceiling_limits_the_range():
    assert lowest_free_vlan([1, 2, 3], ceiling=3) is None
    assert lowest_free_vlan([1, 2], ceiling=3) == 3


def test_ceiling_never_exceeds_120():
    assert vlan_ceiling(200) == MAX_VLAN_ID
    assert vlan_ceiling(54) == 54
    assert vlan_ceiling(-1) == 0
    assert lowest_free_vlan(range(1, 121), ceiling=4094) is None


@given(st.sets(st.integers(min_value=1, max_value=MAX_VLAN_ID)),
       st.integers(min_value=1, max_value=MAX_VLAN_ID))
def test_allocation_is_the_minimum_free_id(taken, ceiling):
    got = lowest_free_vlan(taken, ceiling)
    free = [v for v in range(1, ceiling + 1) if v not in taken]
    assert got == (min(free) if free else None)
    if got is not None:
        assert got not in taken and 1 <= got <= ceiling


@given(st.lists(st.sampled_from(["allocate", "free"]), max_size=200), st.randoms())
def test_allocating_and_freeing_never_hands_out_a_live_id(ops, rnd):
    live: set[int] = set()
    for op in ops:
        if op == "allocate":
            vlan = lowest_free_vlan(live)
            if vlan is None:
                assert len(live) == MAX_VLAN_ID
                continue
            assert vlan not in live
            live.add(vlan)
        elif live:
            live.discard(rnd.choice(sorted(live)))
    assert all(1 <= v <= MAX_VLAN_ID for v in live)


def slot(vlan, state, uid="u"):
    return BranchSlot(vlan_id=vlan, pod_uid=f"{uid}{vlan}", state=state)


def test_occupancy_counts_cooling_separately_and_ignores_deleted():
    slots = [slot(1, "attached"), slot(2, "creating"), slot(3, "cooling"), slot(4, "deleting"),
             slot(5, "leaked"), slot(6, "deleted")]
    assert occupancy(slots) == (2, 3)


def test_capacity_is_strictly_below_the_limit():
    assert has_capacity(8, 0, 9)
    assert not has_capacity(9, 0, 9)
    assert not has_capacity(5, 4, 9)
    assert has_capacity(4, 4, 9)
    assert not has_capacity(0, 0, 0)


@given(st.integers(0, 130), st.integers(0, 130), st.integers(0, 130))
def test_capacity_matches_upstream_formula(in_use, cooling, limit):
    assert has_capacity(in_use, cooling, limit) == (in_use + cooling < limit)


def test_capacity_patch_only_when_different():
    assert capacity_patch({POD_ENI: "54"}, 54) is None
    assert capacity_patch({POD_ENI: "9"}, 54) == {"status": {"capacity": {POD_ENI: "54"}}}
    assert capacity_patch({"cpu": "4"}, 9) == {"status": {"capacity": {POD_ENI: "9"}}}
    assert capacity_patch(None, 9) == {"status": {"capacity": {POD_ENI: "9"}}}
