"""Worker liveness: the worker touches a file on its own timer; ``health`` checks its age.

The file is touched from the worker's timer (the same loop that consumes messages), so a
wedged consumer stops touching it, and it is removed on a clean shutdown. A container's
liveness probe runs ``python -m worker health``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from celery import bootsteps

DEFAULT_INTERVAL_SECONDS = 10.0


def liveness_file(var_dir: Path) -> Path:
    """The file the worker touches; ``SGPADMIN_WORKER_LIVENESS_FILE`` overrides it (one per
    worker when several share a VAR_DIR)."""
    override = os.environ.get("SGPADMIN_WORKER_LIVENESS_FILE")
    return Path(override) if override else Path(var_dir) / "worker" / "alive"


def liveness_interval() -> float:
    return float(os.environ.get("SGPADMIN_WORKER_LIVENESS_SECONDS") or DEFAULT_INTERVAL_SECONDS)


def touch(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()
    os.utime(path)  # touch() leaves the time alone on some filesystems when the file exists


def check_liveness(path: Path, max_age: float, now: float | None = None) -> tuple[bool, str]:
    """Is the worker alive? (ok, a sentence for the operator)."""
    try:
        age = (time.time() if now is None else now) - path.stat().st_mtime
    except FileNotFoundError:
        return False, f"no worker: {path} does not exist (never started, or shut down)"
    if age > max_age:
        return False, f"worker stalled: {path} last touched {age:.0f}s ago (limit {max_age:.0f}s)"
    return True, f"worker alive: {path} touched {age:.1f}s ago"


def make_liveness_step(path: Path, interval: float) -> type[bootsteps.StartStopStep]:
    """A worker bootstep that touches ``path`` every ``interval`` seconds while running."""

    class LivenessProbe(bootsteps.StartStopStep):
        requires = {"celery.worker.components:Timer"}

        def __init__(self, worker, **kwargs):
            super().__init__(worker, **kwargs)
            self.timer_entry = None

        def start(self, worker):
            touch(path)
            self.timer_entry = worker.timer.call_repeatedly(interval, touch, (path,), priority=10)

        def stop(self, worker):
            if self.timer_entry is not None:
                self.timer_entry.cancel()
            path.unlink(missing_ok=True)

    return LivenessProbe
