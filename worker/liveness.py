"""Worker liveness: the worker touches a file on its own timer; ``health`` checks its age.

The file is touched only while the worker and its consumer are running (a lost broker
connection stops the consumer, so the file goes stale), and it is removed on a clean
shutdown. A container's
liveness probe runs ``python -m worker health``.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from celery import bootsteps

DEFAULT_INTERVAL_SECONDS = 10.0


def liveness_file(var_dir: Path) -> Path:
    """The file the worker touches; ``SGPADMIN_WORKER_LIVENESS_FILE`` overrides it (one per
    worker when several share a VAR_DIR)."""
    override = os.environ.get("SGPADMIN_WORKER_LIVENESS_FILE")
    return Path(override) if override else Path(var_dir) / "worker" / "alive"


def watcher_liveness_file(var_dir: Path) -> Path:
    """The file the cluster watcher touches while every one of its watch threads runs;
    ``SGPADMIN_WATCHER_LIVENESS_FILE`` overrides it."""
    override = os.environ.get("SGPADMIN_WATCHER_LIVENESS_FILE")
    return Path(override) if override else Path(var_dir) / "watcher" / "alive"


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


def worker_is_running(worker) -> bool:
    """The worker and its consumer are both up (a broker outage stops the consumer)."""
    consumer = getattr(worker, "consumer", None)
    return (
        worker.blueprint.state == bootsteps.RUN
        and consumer is not None
        and consumer.blueprint.state == bootsteps.RUN
    )


def make_liveness_step(path: Path, interval: float) -> type[bootsteps.StartStopStep]:
    """A worker bootstep that touches ``path`` every ``interval`` seconds while the worker
    and its consumer are running, and removes it when the worker stops.

    A thread of its own rather than the worker's timer: the timer sleeps through its
    whole delay, which would hold up every shutdown by seconds.
    """

    class LivenessProbe(bootsteps.StartStopStep):
        requires = {"celery.worker.components:Timer"}

        def __init__(self, worker, **kwargs):
            super().__init__(worker, **kwargs)
            self.stopping = threading.Event()
            self.thread: threading.Thread | None = None

        def start(self, worker):
            self.thread = threading.Thread(
                target=self._run, args=(worker,), name="sgpadmin-liveness", daemon=True
            )
            self.thread.start()

        def _run(self, worker):
            while not self.stopping.wait(interval):
                if worker_is_running(worker):
                    touch(path)

        def stop(self, worker):
            self.stopping.set()
            if self.thread is not None:
                self.thread.join(interval + 1)
            path.unlink(missing_ok=True)

    return LivenessProbe
