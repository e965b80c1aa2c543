"""Real ``celery worker`` subprocesses for the concurrency and crash tests.

Each worker consumes one private queue (so other suites sharing the Redis database never
take its tasks), talks to the test database and the in-process stand-ins over loopback,
and is killed (its whole process group) when the test ends.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.db import connection

REPO = Path(__file__).resolve().parents[2]


def database_url() -> str:
    db = connection.settings_dict
    return (f"postgres://{db['USER']}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}"
            f"/{db['NAME']}")


class Worker:
    def __init__(self, queue: str, concurrency: int, log_path: Path, extra_env=None,
                 pool: str = "prefork") -> None:
        env = {**os.environ, "SGPADMIN_MODE": "test", "DATABASE_URL": database_url(),
               "REDIS_URL": settings.REDIS_URL, "AWS_EC2_METADATA_DISABLED": "true",
               "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
               "PYTHONPATH": str(REPO), **(extra_env or {})}
        self.log_path = log_path
        self.log = open(log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "sgpadmin.celery", "worker", "-Q", queue,
             "-c", str(concurrency), "-P", pool, "--without-gossip", "--without-mingle",
             "--without-heartbeat", "--loglevel=INFO", "-n", f"{queue}-{time.time_ns()}@test"],
            cwd=REPO, env=env, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True)

    def children(self) -> list[int]:
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in path.read_text().split()]
        except OSError:
            return []

    def kill(self) -> None:
        """SIGKILL the worker and its pool children (the process group we started)."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            pass
        self.log.close()

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""
