"""Start sgpadmin's background processes with the project's configuration.

    python -m worker worker [celery worker options]   # consume tasks
    python -m worker beat [celery beat options]       # send periodic tasks
    python -m worker health [--max-age SECONDS]       # exit 0 if a worker is alive here
    python -m worker watcher [--cluster NAME ...]     # list + watch the clusters

The broker is Redis when ``REDIS_URL`` is set, otherwise a directory under
``SGPADMIN_VAR_DIR`` (kombu's filesystem transport), so the demo needs no server.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sgpadmin.settings")

USAGE = "usage: python -m worker {worker,beat,health,watcher} [options]"
DEFAULT_POOL = "threads"
DEFAULT_CONCURRENCY = 16


def _prepare():
    """The Celery app, with the embedded broker's folders in place."""
    from django.conf import settings

    from sgpadmin.celery import app

    if app.conf.broker_url.startswith("filesystem:"):
        options = dict(app.conf.broker_transport_options or {})
        options.setdefault("control_folder", str(Path(settings.CELERY_BROKER_DIR) / "control"))
        app.conf.broker_transport_options = options
        for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
            if options.get(key):
                Path(options[key]).mkdir(parents=True, exist_ok=True)
    (Path(settings.VAR_DIR) / "worker").mkdir(parents=True, exist_ok=True)
    return app, settings


def run_worker(args: list[str]) -> int:
    from .liveness import liveness_file, liveness_interval, make_liveness_step

    app, settings = _prepare()
    app.steps["worker"].add(
        make_liveness_step(liveness_file(settings.VAR_DIR), liveness_interval())
    )
    from .metrics import serve_metrics_if_asked

    serve_metrics_if_asked()
    # Threads by default: the controller's tasks mostly wait on EC2 and the API server, and
    # one process shares its clients, caches and token buckets among its threads. Options
    # given on the command line come later and win (``--pool=prefork``, ``--concurrency``).
    argv = ["worker", "--loglevel=INFO", f"--pool={DEFAULT_POOL}",
            f"--concurrency={DEFAULT_CONCURRENCY}"]
    if app.conf.broker_url.startswith("filesystem:"):
        argv += ["--without-gossip", "--without-mingle"]  # no peers to talk to
    app.worker_main(argv + args)
    return 0


def run_beat(args: list[str]) -> int:
    from .schedule import beat_schedule

    app, settings = _prepare()
    app.conf.beat_schedule = beat_schedule()
    schedule_file = Path(settings.VAR_DIR) / "worker" / "celerybeat-schedule"
    app.start(["beat", "--loglevel=INFO", f"--schedule={schedule_file}", *args])
    return 0


def run_health(args: list[str]) -> int:
    from django.conf import settings

    from .liveness import check_liveness, liveness_file, liveness_interval

    parser = argparse.ArgumentParser(prog="python -m worker health")
    parser.add_argument(
        "--max-age",
        type=float,
        default=None,
        help="seconds since the worker last touched its file (default: 3 intervals)",
    )
    parser.add_argument(
        "--watcher", action="store_true", help="check the cluster watcher instead of a worker"
    )
    options = parser.parse_args(args)
    if options.watcher:
        from .liveness import watcher_liveness_file

        max_age = options.max_age if options.max_age is not None else 10.0
        ok, message = check_liveness(watcher_liveness_file(settings.VAR_DIR), max_age)
        message = message.replace("worker", "watcher", 1)
        print(message, file=sys.stdout if ok else sys.stderr)
        return 0 if ok else 1
    max_age = options.max_age if options.max_age is not None else 3 * liveness_interval()
    ok, message = check_liveness(liveness_file(settings.VAR_DIR), max_age)
    print(message, file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


def run_watcher(args: list[str]) -> int:
    """The cluster watcher (apps.controller.watcher): list + watch, inventory, reconciles."""
    from apps.controller.watcher import main as watcher_main

    return watcher_main(args)


COMMANDS = {"worker": run_worker, "beat": run_beat, "health": run_health, "watcher": run_watcher}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in COMMANDS:
        print(USAGE, file=sys.stderr)
        return 2
    return COMMANDS[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
