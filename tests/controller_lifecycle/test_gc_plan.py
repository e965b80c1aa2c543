"""Leak collection decisions: which pods leaked, the check's schedule, the two-strike sweep,
the node-termination cleanup."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from apps.controller.core.gc_plan import (
    LEAK_CHECK_INITIAL_SECONDS,
    LEAK_CHECK_MAX_SECONDS,
    AvailableENI,
    LivePod,
    TrackedBranch,
    leaked_pod_uids,
    next_leak_check_interval,
    node_cleanup_due,
    plan_node_termination,
    plan_sweep,
    sweep_due,
)

T0 = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)
EARLIER = T0 - dt.timedelta(seconds=5)
LATER = T0 + dt.timedelta(seconds=5)


def test_branch_of_a_vanished_pod_is_a_leak():
    branches = [TrackedBranch(1, "gone", "attached", EARLIER),
                TrackedBranch(2, "alive", "attached", EARLIER)]
    assert leaked_pod_uids(branches, [LivePod("alive")], T0) == ["gone"]


def test_finished_or_deleting_pods_no_longer_hold_their_branch():
    branches = [TrackedBranch(i, uid, "attached", EARLIER)
                for i, uid in enumerate(["done", "failed", "deleting", "running"])]
    pods = [LivePod("done", "Succeeded"), LivePod("failed", "Failed"),
            LivePod("deleting", "Running", deleting=True), LivePod("running")]
    assert leaked_pod_uids(branches, pods, T0) == ["deleting", "done", "failed"]


def test_rows_written_after_the_pod_list_are_not_judged():
    branches = [TrackedBranch(1, "new", "creating", LATER)]
    assert leaked_pod_uids(branches, [], T0) == []


def test_released_rows_are_not_leaks_again():
    branches = [TrackedBranch(i, "gone", state, EARLIER)
                for i, state in enumerate(["cooling", "deleting", "leaked", "deleted"])]
    assert leaked_pod_uids(branches, [], T0) == []


def test_pending_creating_row_of_a_gone_pod_is_a_leak():
    assert leaked_pod_uids([TrackedBranch(1, "gone", "creating", EARLIER)], [], T0) == ["gone"]


def test_leak_check_interval_resets_and_grows_to_the_cap():
    assert next_leak_check_interval(None, False, False, 0.5) == LEAK_CHECK_INITIAL_SECONDS
    assert next_leak_check_interval(600, True, False, 0.9) == LEAK_CHECK_INITIAL_SECONDS
    assert next_leak_check_interval(600, False, True, 0.9) == LEAK_CHECK_INITIAL_SECONDS
    assert next_leak_check_interval(60, False, False, 0.0) == 60
    assert next_leak_check_interval(60, False, False, 0.5) == 60 * 3.5
    assert next_leak_check_interval(600, False, False, 0.99) == LEAK_CHECK_MAX_SECONDS


@given(st.floats(1, 10_000), st.booleans(), st.booleans(), st.floats(0, 0.999999))
def test_leak_check_interval_bounds(previous, found, failed, fraction):
    interval = next_leak_check_interval(previous, found, failed, fraction)
    assert LEAK_CHECK_INITIAL_SECONDS <= interval <= LEAK_CHECK_MAX_SECONDS
    if found or failed:
        assert interval == LEAK_CHECK_INITIAL_SECONDS
    elif previous <= LEAK_CHECK_MAX_SECONDS:
        assert interval >= min(previous, LEAK_CHECK_MAX_SECONDS) or previous < 60


def test_sweep_first_sighting_only_records():
    plan = plan_sweep([AvailableENI("eni-a"), AvailableENI("eni-b")], [], [])
    assert plan.candidates == ("eni-a", "eni-b") and plan.delete == ()


def test_sweep_second_sighting_deletes():
    plan = plan_sweep([AvailableENI("eni-a"), AvailableENI("eni-c")], ["eni-a", "eni-b"], [])
    assert plan.delete == ("eni-a",)
    assert plan.candidates == ("eni-a", "eni-c")


def test_sweep_never_touches_associated_or_tracked_enis():
    available = [AvailableENI("eni-assoc", associated=True), AvailableENI("eni-row"),
                 AvailableENI("eni-free")]
    plan = plan_sweep(available, ["eni-assoc", "eni-row", "eni-free"], ["eni-row"])
    assert plan.delete == ("eni-free",)
    assert plan.protected == ("eni-assoc", "eni-row")
    assert "eni-row" not in plan.candidates


@given(st.lists(st.tuples(st.sampled_from([f"eni-{i}" for i in range(12)]), st.booleans())),
       st.sets(st.sampled_from([f"eni-{i}" for i in range(12)])),
       st.sets(st.sampled_from([f"eni-{i}" for i in range(12)])))
def test_sweep_two_strike_properties(seen, previous, tracked):
    available = [AvailableENI(e, a) for e, a in seen]
    plan = plan_sweep(available, previous, tracked)
    associated = {e for e, a in seen if a}
    assert set(plan.delete) <= set(plan.candidates)
    assert set(plan.delete) <= previous
    assert not set(plan.delete) & (associated | tracked)
    # everything seen is either a candidate or protected
    assert set(plan.candidates) | set(plan.protected) == {e for e, _ in seen}
    # two consecutive sightings of an unprotected ENI always lead to its deletion
    again = plan_sweep(available, plan.candidates, tracked)
    assert set(again.delete) == set(plan.candidates)


def test_node_termination_deletes_at_once_but_spares_tracked_and_associated():
    available = [AvailableENI("eni-1"), AvailableENI("eni-2", associated=True),
                 AvailableENI("eni-3")]
    assert plan_node_termination(available, ["eni-3"]) == ("eni-1",)


def test_failed_node_cleanups_back_off_doubling_to_the_cap():
    assert node_cleanup_due(0, None, T0, 30, 3600)  # never tried: at once
    waits = []
    for failures in (1, 2, 3, 8, 500):
        assert not node_cleanup_due(failures, T0, T0 + dt.timedelta(seconds=29), 30, 3600)
        wait = next(s for s in range(0, 3601) if node_cleanup_due(
            failures, T0, T0 + dt.timedelta(seconds=s), 30, 3600))
        waits.append(wait)
    assert waits == [30, 60, 120, 3600, 3600]


def test_sweep_schedule():
    assert sweep_due(None, T0, 1800)
    assert not sweep_due(T0 - dt.timedelta(seconds=1799), T0, 1800)
    assert sweep_due(T0 - dt.timedelta(seconds=1800), T0, 1800)
