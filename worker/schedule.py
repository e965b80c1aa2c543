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
    }
