"""When a released branch ENI is deleted (reference §4.5, §4.7): pure decisions.

Upstream keeps a per-node delete queue in memory; we keep the queue as branch rows in the
states ``cooling`` (waiting out the cooldown) and ``deleting`` (a delete failed, retried with
backoff). Where we differ from upstream, on purpose:

- a branch whose deletion keeps failing becomes ``leaked`` after ``max_delete_attempts``
  and keeps its VLAN id (upstream "forgets" it and leaks the VLAN): the cluster sweep retries
  it, and only a successful delete frees the VLAN;
- the backoff between attempts is spread over passes instead of sleeping in a worker.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from .model import Event, EventType

COOLING = "cooling"
DELETING = "deleting"
LEAKED = "leaked"
ATTACHED = "attached"
CREATING = "creating"
DELETED = "deleted"

DEFAULT_MAX_DELETE_ATTEMPTS = 5
COOLDOWN_UPDATED = "BranchENICoolDownPeriodUpdated"


@dataclass(frozen=True)
class ReleasePolicy:
    cooldown_seconds: float
    max_delete_attempts: int = DEFAULT_MAX_DELETE_ATTEMPTS
    backoff_base_seconds: float = 1.0
    backoff_factor: float = 3.0
    backoff_cap_seconds: float = 60.0


@dataclass(frozen=True)
class QueuedBranch:
    """A branch row as the delete queue sees it."""

    id: int
    state: str
    cooling_since: dt.datetime | None
    delete_attempts: int = 0
    last_attempt_at: dt.datetime | None = None  # when the last failed attempt was recorded


def effective_cooldown(configured: int, minimum: int) -> int:
    """The cooldown in force: the cluster's value, never below the minimum (upstream: 30 s)."""
    return max(int(configured), int(minimum))


def delete_backoff(attempts: int, policy: ReleasePolicy) -> float:
    """Seconds to wait after ``attempts`` failed deletes before the next one."""
    if attempts <= 0:
        return 0.0
    return min(policy.backoff_cap_seconds,
               policy.backoff_base_seconds * policy.backoff_factor ** (attempts - 1))


def is_due(branch: QueuedBranch, now: dt.datetime, policy: ReleasePolicy,
           ignore_cooldown: bool = False) -> bool:
    """Whether this pass should try to delete the branch."""
    if branch.state == COOLING:
        if ignore_cooldown or branch.cooling_since is None:
            return True
        return now >= branch.cooling_since + dt.timedelta(seconds=policy.cooldown_seconds)
    if branch.state == DELETING:
        if ignore_cooldown or branch.delete_attempts <= 0 or branch.last_attempt_at is None:
            return True
        wait = delete_backoff(branch.delete_attempts, policy)
        return now >= branch.last_attempt_at + dt.timedelta(seconds=wait)
    return False


def _queue_order(branch: QueuedBranch) -> tuple:
    since = branch.cooling_since or branch.last_attempt_at
    return (since is not None, since or dt.datetime.min.replace(tzinfo=dt.UTC), branch.id)


def due_for_deletion(branches: Iterable[QueuedBranch], now: dt.datetime, policy: ReleasePolicy,
                     ignore_cooldown: bool = False) -> list[int]:
    """Ids of the branches to delete now, oldest release first."""
    due = [b for b in branches if is_due(b, now, policy, ignore_cooldown)]
    return [b.id for b in sorted(due, key=_queue_order)]


def next_due_in(branches: Iterable[QueuedBranch], now: dt.datetime,
                policy: ReleasePolicy) -> float | None:
    """Seconds until the next queued branch becomes due (None when the queue is empty)."""
    waits = []
    for branch in branches:
        if branch.state == COOLING and branch.cooling_since is not None:
            end = branch.cooling_since + dt.timedelta(seconds=policy.cooldown_seconds)
        elif branch.state == DELETING and branch.last_attempt_at is not None:
            wait = delete_backoff(branch.delete_attempts, policy)
            end = branch.last_attempt_at + dt.timedelta(seconds=wait)
        elif branch.state in (COOLING, DELETING):
            end = now
        else:
            continue
        waits.append(max(0.0, (end - now).total_seconds()))
    return min(waits) if waits else None


def state_after_failure(attempts_before: int, policy: ReleasePolicy) -> str:
    """``deleting`` (retry later) or, at the limit, ``leaked`` (the sweep's, VLAN held)."""
    return LEAKED if attempts_before + 1 >= policy.max_delete_attempts else DELETING


def node_release_due(deleted_at: dt.datetime | None, now: dt.datetime,
                     grace_seconds: float) -> bool:
    """A deleted node's branches are released once the grace period (upstream 1 min) is over."""
    return deleted_at is not None and now >= deleted_at + dt.timedelta(seconds=grace_seconds)


def go_duration(seconds: int) -> str:
    """A duration as Go prints it (``time.Duration.String``): 30s, 1m0s, 1m30s, 1h0m0s."""
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    return f"{minutes}m{secs}s"


def cooldown_announcement(previous: int | None, current: int) -> Event | None:
    """Upstream's node event when the cooldown changed; nothing on first sight or no change."""
    if previous is None or int(previous) == int(current):
        return None
    return Event(EventType.NORMAL, COOLDOWN_UPDATED,
                 f"Branch ENI cool down period has been updated to {go_duration(current)}")
