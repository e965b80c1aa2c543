"""Leak collection (reference §4.6): the three mechanisms' decisions, as pure functions.

(a) per-node leak check: branches whose pod is gone; jittered interval 1 -> 15 min;
(b) cluster sweep of ``available`` ENIs with our tags: two strikes before a delete;
(c) node-termination cleanup: ``available`` ENIs tagged with the instance id, at once;
    a failed cleanup is retried with an exponential backoff (30 s, doubling, to 1 h).

Beyond upstream, (b) and (c) never touch an ENI that is associated with a trunk or that a
live branch row still tracks (the release path owns those), so a sweep cannot race an
attach in progress or a cooldown.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

LEAK_CHECK_INITIAL_SECONDS = 60.0
LEAK_CHECK_MAX_SECONDS = 900.0
LEAK_CHECK_JITTER_FACTOR = 5.0
NODE_CLEANUP_RETRY_SECONDS = 30.0
NODE_CLEANUP_RETRY_MAX_SECONDS = 3600.0
GONE_PHASES = frozenset({"Succeeded", "Failed"})
IN_SERVICE_STATES = frozenset({"creating", "attached"})


@dataclass(frozen=True)
class LivePod:
    """A pod object the cluster still has."""

    uid: str
    phase: str = "Running"
    deleting: bool = False

    @property
    def holds_network(self) -> bool:
        return self.phase not in GONE_PHASES and not self.deleting


@dataclass(frozen=True)
class TrackedBranch:
    """A branch row as the leak check sees it."""

    id: int
    pod_uid: str
    state: str
    created: dt.datetime


def leaked_pod_uids(branches: Iterable[TrackedBranch], pods: Iterable[LivePod],
                    listed_at: dt.datetime) -> list[str]:
    """Pod UIDs whose in-service branches no longer have a pod that holds its network.

    A pod that is gone, finished (Succeeded/Failed) or being deleted releases its branches.
    Only rows created before the pod list was taken count: a row reserved after the list
    belongs to a pod the list could not know yet.
    """
    holding = {p.uid for p in pods if p.holds_network}
    leaked = {b.pod_uid for b in branches
              if b.state in IN_SERVICE_STATES and b.created < listed_at
              and b.pod_uid not in holding}
    return sorted(leaked)


def next_leak_check_interval(previous: float | None, found_leak: bool,
                             check_failed: bool, random_fraction: float) -> float:
    """Upstream's schedule: 1 min after a leak or a failed check, else jitter(prev, 5) <= 15 min.

    ``random_fraction`` is in [0, 1) (``random.random()``), passed in to keep this pure.
    """
    if previous is None or found_leak or check_failed:
        return LEAK_CHECK_INITIAL_SECONDS
    grown = previous * (1 + random_fraction * LEAK_CHECK_JITTER_FACTOR)
    return min(LEAK_CHECK_MAX_SECONDS, max(LEAK_CHECK_INITIAL_SECONDS, grown))


@dataclass(frozen=True)
class AvailableENI:
    """An ENI that EC2 reports ``available`` under our owner and cluster tags."""

    eni_id: str
    associated: bool = False  # a trunk association names it as branch or trunk


@dataclass(frozen=True)
class SweepPlan:
    candidates: tuple[str, ...]  # seen this run: remembered for the next one
    delete: tuple[str, ...]  # seen on this run and the previous one: delete now
    protected: tuple[str, ...]  # available but associated or tracked by a live row


def plan_sweep(available: Iterable[AvailableENI], previous_candidates: Iterable[str],
               tracked: Iterable[str]) -> SweepPlan:
    """Two-strike rule: delete only what was also a candidate on the previous run.

    ``tracked``: ENI ids of live branch rows (any state but deleted); their release path
    (cooldown, retries, the leaked-row retry) deletes them, not the two-strike rule.
    """
    available = list(available)
    protected = {e.eni_id for e in available if e.associated} | (
        {e.eni_id for e in available} & set(tracked))
    candidates = sorted({e.eni_id for e in available} - protected)
    previous = set(previous_candidates)
    return SweepPlan(tuple(candidates), tuple(e for e in candidates if e in previous),
                     tuple(sorted(protected)))


def plan_node_termination(available: Iterable[AvailableENI],
                          tracked: Iterable[str]) -> tuple[str, ...]:
    """ENIs of a terminated node to delete at once (no two-strike wait)."""
    available = list(available)
    spared = {e.eni_id for e in available if e.associated} | set(tracked)
    return tuple(sorted({e.eni_id for e in available} - spared))


def node_cleanup_retry_delay(failed_runs: int, base_seconds: float = NODE_CLEANUP_RETRY_SECONDS,
                             max_seconds: float = NODE_CLEANUP_RETRY_MAX_SECONDS) -> float:
    """Wait after the ``failed_runs``-th failed cleanup of a node: base, doubling, capped."""
    if failed_runs <= 0:
        return 0.0
    return min(max_seconds, base_seconds * 2.0 ** min(failed_runs - 1, 64))


def node_cleanup_due(failed_runs: int, last_failed: dt.datetime | None, now: dt.datetime,
                     base_seconds: float = NODE_CLEANUP_RETRY_SECONDS,
                     max_seconds: float = NODE_CLEANUP_RETRY_MAX_SECONDS) -> bool:
    """A terminated node's cleanup that has not succeeded yet: due at once the first time,
    then only once the backoff after its last failed run is over."""
    if failed_runs <= 0 or last_failed is None:
        return True
    wait = node_cleanup_retry_delay(failed_runs, base_seconds, max_seconds)
    return now >= last_failed + dt.timedelta(seconds=wait)


def sweep_due(last_started: dt.datetime | None, now: dt.datetime, interval_seconds: float) -> bool:
    return last_started is None or now >= last_started + dt.timedelta(seconds=interval_seconds)
