"""Fault soak of the branch lifecycle (``make soak``; ``tests/controller_lifecycle/test_soak.py``
runs it with a small count).

Drives ``--cycles`` pod attach/detach cycles through real Celery workers while things break,
then lets the system settle and checks it. Everything is on loopback:

1. a scratch PostgreSQL database (``--database-url``, default ``.../sgpadmin_soak``),
   recreated and migrated; a private ``redis-server`` on a free port (never the shared one);
2. the EC2 and Kubernetes stand-ins in this process; ``--nodes`` m5.large nodes with trunks;
   a policy giving ``app=web`` pods the ``web`` group (the others get the node's groups);
   the cluster cooldown compressed to ``--cooldown`` seconds (``SGPADMIN_MIN_COOLDOWN_SECONDS=0``);
3. ``--workers`` Celery worker processes (thread pool), the cluster watcher (threads here),
   and this process playing beat (lifecycle ticks) and the workload: up to ``--live`` pods at
   once; a pod is deleted once annotated (some before: racing the attach), some finish
   (``Succeeded``) instead;
4. chaos: EC2 answers ``--fault-rate`` of calls with an error (half ``InternalError``, half
   ``RequestLimitExceeded``; a fifth of them after the call happened, answer lost); a random
   worker is SIGKILLed every ``--kill-every`` seconds (and started again); Redis is restarted
   once, halfway, losing every queued task;
5. settle: a last wave of ``--final`` pods stays; faults stop; ticks, leak checks and two
   sweeps run until the pods are served and the delete queue is empty (``--settle-timeout``);
6. report (JSON on stdout, ``--json FILE``): leaked ENIs (branch ENIs in EC2 that no live pod
   uses), leaked rows, pods with wrong groups, pods with two ENIs, VLANs on two live branches,
   pods neither annotated nor told why, plus counts and timings. Exit 1 when any is non-zero.

Worker processes are ``python benchmarks/soak.py worker`` (see :func:`worker_main`).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/sgpadmin_soak"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """A private, non-persistent redis-server on loopback (restarting it loses its data)."""

    def __init__(self, port: int, log_dir: Path) -> None:
        self.port, self.log_dir, self.process = port, log_dir, None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        with open(self.log_dir / "redis.log", "ab") as log:  # the child keeps its own copy
            self.process = subprocess.Popen(
                ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--daemonize", "no"], stdout=log, stderr=log)
        import redis

        client = redis.Redis.from_url(self.url)
        for _ in range(100):
            try:
                client.ping()
                return self
            except redis.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError("the private redis-server did not start")

    def stop(self) -> None:
        from sgpadmin.demo.processes import stop_process

        stop_process(self.process, grace=5)


class Workers:
    """Celery worker processes, each in its own session so a SIGKILL takes all of it."""

    def __init__(self, count: int, concurrency: int, env: dict, log_dir: Path) -> None:
        self.count, self.concurrency, self.env, self.log_dir = count, concurrency, env, log_dir
        self.processes: list[subprocess.Popen | None] = [None] * count
        self.kills = self.exits = 0

    def start(self, index: int) -> None:
        with open(self.log_dir / f"worker{index}.log", "ab") as log:
            self.processes[index] = subprocess.Popen(
                [sys.executable, str(Path(__file__).resolve()), "worker", f"--index={index}",
                 f"--concurrency={self.concurrency}"],
                cwd=ROOT, env=self.env, stdout=log, stderr=log, start_new_session=True)

    def start_all(self) -> None:
        for index in range(self.count):
            self.start(index)

    def kill_random(self, rng: random.Random) -> None:
        index = rng.randrange(self.count)
        process = self.processes[index]
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
            self.kills += 1
        self.start(index)

    def revive(self) -> int:
        """Play the supervisor (systemd, Kubernetes): start again any worker that exited.
        Celery 5.7's worker exits when its Redis connection drops (consumer
        ``on_connection_error_after_connected``: AttributeError on ``hostname``)."""
        revived = 0
        for index, process in enumerate(self.processes):
            if process is not None and process.poll() is not None:
                self.start(index)
                revived += 1
        self.exits += revived
        return revived

    def stop_all(self) -> None:
        for process in self.processes:
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            if process is None:
                continue
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)


def environment(args, redis_url: str, var_dir: Path) -> dict:
    env = dict(os.environ)
    env.update({
        "SGPADMIN_MODE": "test", "DATABASE_URL": args.database_url, "REDIS_URL": redis_url,
        "DJANGO_SETTINGS_MODULE": "sgpadmin.settings", "SGPADMIN_VAR_DIR": str(var_dir),
        "SGPADMIN_MIN_COOLDOWN_SECONDS": "0", "SGPADMIN_DELETE_BACKOFF_SECONDS": "0.5",
        "SGPADMIN_NODE_DELETE_GRACE_SECONDS": "5", "SGPADMIN_SWEEP_INTERVAL_SECONDS": "20",
        "SGPADMIN_EC2_MAX_ATTEMPTS": "3", "SGPADMIN_RESYNC_ON_START": "1",
        "AWS_EC2_METADATA_DISABLED": "true", "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-west-2",
        "PYTHONPATH": str(ROOT), "LOG_LEVEL": "WARNING",
    })
    return env


def worker_main(argv: list[str]) -> int:
    """One Celery worker (thread pool) with a short visibility timeout, so the tasks of a
    killed worker come back within seconds instead of an hour."""
    parser = argparse.ArgumentParser(prog="soak.py worker")
    parser.add_argument("--index", type=int, default=0)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--visibility-timeout", type=int, default=15)
    args = parser.parse_args(argv)
    import django

    django.setup()
    from sgpadmin.celery import app

    app.conf.broker_transport_options = {"visibility_timeout": args.visibility_timeout}
    app.conf.broker_connection_retry_on_startup = True
    import apps.controller.tasks
    import apps.controller.tasks_lifecycle  # noqa: F401 - tasks and the worker_ready resync

    app.worker_main(["worker", "--pool=threads", f"--concurrency={args.concurrency}",
                     "--without-gossip", "--without-mingle", "--loglevel=WARNING",
                     "-n", f"soak{args.index}@%h"])
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["worker"]:
        return worker_main(argv[1:])
    parser = argparse.ArgumentParser(prog="soak.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=int(os.environ.get("SOAK_CYCLES", 300)))
    parser.add_argument("--nodes", type=int, default=2)
    parser.add_argument("--live", type=int, default=8, help="pods alive at once")
    parser.add_argument("--final", type=int, default=6, help="pods left running at the end")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=6)
    parser.add_argument("--cooldown", type=int, default=2)
    parser.add_argument("--fault-rate", type=float, default=0.2)
    parser.add_argument("--kill-every", type=float, default=20.0)
    parser.add_argument("--timeout", type=float, default=float(os.environ.get("SOAK_TIMEOUT", 1800)))
    parser.add_argument("--settle-timeout", type=float, default=120.0)
    parser.add_argument("--seed", type=int, default=int(os.environ.get("SOAK_SEED", 7)))
    parser.add_argument("--database-url", default=os.environ.get("SOAK_DATABASE_URL", DEFAULT_DB))
    parser.add_argument("--log-dir", default=str(ROOT / "var" / "soak"))
    parser.add_argument("--json", help="also write the report here")
    args = parser.parse_args(argv)
    from tests.controller_lifecycle.soak_driver import run_soak

    def stop(signum, _frame):  # SIGTERM: unwind, so the finally blocks stop every child
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)

    report = run_soak(args)
    text = json.dumps(report, indent=2, sort_keys=True)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n")
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
