"""The beat schedule: what runs periodically. Intervals in seconds, overridable from the
environment for tests and the demo."""

from __future__ import annotations

import os


def _seconds(name: str, default: float) -> float:
    return float(os.environ.get(name) or default)


def beat_schedule() -> dict[str, dict]:
    return {
        "heartbeat": {
            "task": "core.heartbeat",
            "schedule": _seconds("SGPADMIN_HEARTBEAT_SECONDS", 60),
            "kwargs": {"note": "beat"},
        },
        # Safety net behind the sync queued after each committed policy change.
        "sync-policies": {
            "task": "apps.policies.tasks.sync_policies_everywhere",
            "schedule": _seconds("SGPADMIN_POLICY_SYNC_SECONDS", 300),
        },
        "purge-idempotency-keys": {
            "task": "core.purge_expired_idempotency_keys",
            "schedule": _seconds("SGPADMIN_IDEMPOTENCY_PURGE_SECONDS", 3600),
        },
        **lifecycle_schedule(),
    }


def lifecycle_schedule() -> dict[str, dict]:
    """Branch lifecycle (apps.controller.tasks_lifecycle): each tick only fans out due work.

    - cooldown processing, deleted-node release and node-termination cleanup: every 10 s
      (upstream's delete queue pass is 30 s);
    - leak checks: every 30 s, each node when its own jittered 1-15 min interval is due;
    - the cluster sweep: looked at every 60 s, run per cluster every
      ``SGPADMIN_SWEEP_INTERVAL_SECONDS`` (30 min, two strikes);
    - a full resync: hourly (and at every worker start).
    """
    return {
        "branch-cooldowns": {"task": "controller.tick_release",
                             "schedule": _seconds("SGPADMIN_RELEASE_TICK_SECONDS", 10)},
        "leak-checks": {"task": "controller.tick_leak_checks",
                        "schedule": _seconds("SGPADMIN_LEAK_CHECK_TICK_SECONDS", 30)},
        "eni-sweeps": {"task": "controller.tick_sweeps",
                       "schedule": _seconds("SGPADMIN_SWEEP_TICK_SECONDS", 60)},
        "resync": {"task": "controller.resync_all",
                   "schedule": _seconds("SGPADMIN_RESYNC_SECONDS", 3600)},
    }
