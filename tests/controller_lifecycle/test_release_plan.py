"""The delete queue's decisions: cooldown, retry backoff, leak after N failures, node grace."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from apps.controller.core.release_plan import (
    COOLDOWN_UPDATED,
    QueuedBranch,
    ReleasePolicy,
    cooldown_announcement,
    delete_backoff,
    due_for_deletion,
    effective_cooldown,
    go_duration,
    is_due,
    next_due_in,
    node_release_due,
    state_after_failure,
)

T0 = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)
POLICY = ReleasePolicy(cooldown_seconds=60, max_delete_attempts=3, backoff_base_seconds=1,
                       backoff_factor=3, backoff_cap_seconds=10)


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def test_cooldown_never_below_the_minimum():
    assert effective_cooldown(10, 30) == 30
    assert effective_cooldown(30, 30) == 30
    assert effective_cooldown(90, 30) == 90
    assert effective_cooldown(1, 0) == 1  # tests lower the floor


def test_cooling_branch_is_due_only_after_the_cooldown():
    branch = QueuedBranch(1, "cooling", T0)
    assert not is_due(branch, at(59.9), POLICY)
    assert is_due(branch, at(60), POLICY)
    assert is_due(branch, at(0), POLICY, ignore_cooldown=True)


def test_cooling_without_timestamp_is_due_at_once():
    assert is_due(QueuedBranch(1, "cooling", None), T0, POLICY)


def test_in_service_and_final_states_are_never_due():
    for state in ("creating", "attached", "leaked", "deleted"):
        assert not is_due(QueuedBranch(1, state, T0 - dt.timedelta(days=1)), T0, POLICY,
                          ignore_cooldown=True)


def test_backoff_grows_by_the_factor_and_is_capped():
    assert [delete_backoff(n, POLICY) for n in range(6)] == [0, 1, 3, 9, 10, 10]


def test_deleting_branch_waits_out_its_backoff():
    branch = QueuedBranch(1, "deleting", T0, delete_attempts=2, last_attempt_at=at(100))
    assert not is_due(branch, at(102.9), POLICY)
    assert is_due(branch, at(103), POLICY)
    assert is_due(QueuedBranch(2, "deleting", None), T0, POLICY)  # never tried: at once


def test_failure_leaks_at_the_limit_not_before():
    assert state_after_failure(0, POLICY) == "deleting"
    assert state_after_failure(1, POLICY) == "deleting"
    assert state_after_failure(2, POLICY) == "leaked"


def test_due_is_in_release_order_oldest_first():
    branches = [QueuedBranch(3, "cooling", at(-100)), QueuedBranch(1, "cooling", at(-300)),
                QueuedBranch(2, "cooling", at(-10)), QueuedBranch(4, "attached", at(-999))]
    assert due_for_deletion(branches, T0, POLICY) == [1, 3]
    assert due_for_deletion(branches, T0, POLICY, ignore_cooldown=True) == [1, 3, 2]


def test_next_due_in_reports_the_earliest_wait():
    branches = [QueuedBranch(1, "cooling", at(-50)), QueuedBranch(2, "deleting", None, 1, at(0))]
    assert next_due_in(branches, T0, POLICY) == 1.0
    assert next_due_in([QueuedBranch(1, "cooling", at(-50))], T0, POLICY) == 10.0
    assert next_due_in([QueuedBranch(1, "attached", T0)], T0, POLICY) is None


def test_node_release_waits_for_the_grace_period():
    assert not node_release_due(None, T0, 60)
    assert not node_release_due(at(-59), T0, 60)
    assert node_release_due(at(-60), T0, 60)


def test_durations_print_like_go():
    assert [go_duration(s) for s in (30, 59, 60, 90, 3600, 3661)] == [
        "30s", "59s", "1m0s", "1m30s", "1h0m0s", "1h1m1s"]


def test_cooldown_announced_on_change_only():
    assert cooldown_announcement(None, 60) is None
    assert cooldown_announcement(60, 60) is None
    event = cooldown_announcement(60, 90)
    assert event.reason == COOLDOWN_UPDATED and event.type == "Normal"
    assert event.message == "Branch ENI cool down period has been updated to 1m30s"


queued = st.builds(
    QueuedBranch, id=st.integers(1, 10_000),
    state=st.sampled_from(["creating", "attached", "cooling", "deleting", "leaked", "deleted"]),
    cooling_since=st.none() | st.integers(-1000, 1000).map(at),
    delete_attempts=st.integers(0, 6),
    last_attempt_at=st.none() | st.integers(-1000, 1000).map(at))


@given(st.lists(queued, max_size=30, unique_by=lambda b: b.id), st.integers(-100, 2000),
       st.integers(0, 600))
def test_due_properties(branches, now_offset, cooldown):
    policy = ReleasePolicy(cooldown_seconds=cooldown)
    now = at(now_offset)
    due = due_for_deletion(branches, now, policy)
    everything = due_for_deletion(branches, now, policy, ignore_cooldown=True)
    by_id = {b.id: b for b in branches}
    # only queue states, every due one is also due when ignoring cooldown, no duplicates
    assert all(by_id[i].state in ("cooling", "deleting") for i in everything)
    assert set(due) <= set(everything) and len(set(due)) == len(due)
    # ignoring cooldown takes the whole queue
    assert len(everything) == sum(b.state in ("cooling", "deleting") for b in branches)
    for branch in branches:
        if branch.state == "cooling" and branch.cooling_since is not None:
            ready = now >= branch.cooling_since + dt.timedelta(seconds=cooldown)
            assert (branch.id in due) == ready


@given(st.integers(0, 20), st.integers(1, 10))
def test_leak_exactly_at_the_limit(attempts, limit):
    policy = ReleasePolicy(cooldown_seconds=60, max_delete_attempts=limit)
    assert (state_after_failure(attempts, policy) == "leaked") == (attempts + 1 >= limit)
