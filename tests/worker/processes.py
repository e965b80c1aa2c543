"""Start real ``python -m worker`` processes for tests, and Celery clients to talk to them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from celery import Celery

REPO_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0  # a warm shutdown takes a few seconds


def wait_for(predicate: Callable[[], object], timeout: float, what: str, log: Path | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.1)
    detail = f"\n--- process log ---\n{log.read_text()[-4000:]}" if log and log.exists() else ""
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}{detail}")


def stop(process: subprocess.Popen) -> None:
    """Terminate a process we started (and its process group), then make sure it is gone."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(STOP_TIMEOUT)


class Processes:
    """Starts ``python -m worker ...`` subprocesses with a private VAR_DIR."""

    def __init__(self, var_dir: Path, redis_url: str = ""):
        self.var_dir = var_dir
        self.redis_url = redis_url
        self.started: list[subprocess.Popen] = []

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            SGPADMIN_MODE="test",
            SGPADMIN_VAR_DIR=str(self.var_dir),
            DATABASE_URL="",
            REDIS_URL=self.redis_url,
            PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")])),
        )
        env.pop("DJANGO_SETTINGS_MODULE", None)
        env.update(extra)
        return env

    def start(self, *args: str, log_name: str, **env: str) -> tuple[subprocess.Popen, Path]:
        log = self.var_dir / f"{log_name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "worker", *args],
                cwd=REPO_ROOT,
                env=self.env(**env),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.started.append(process)
        return process, log

    def run(self, *args: str, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "worker", *args],
            cwd=REPO_ROOT,
            env=self.env(**env),
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT,
        )

    def stop_all(self) -> None:
        for process in self.started:
            stop(process)


def unique_queue() -> str:
    return f"sgpadmin-test-{uuid.uuid4().hex[:12]}"


def redis_client_app(url: str) -> Celery:
    """A Celery client of our own (not the project app, whose broker was fixed at import)."""
    return Celery("sgpadmin-test-client", broker=url, backend=url)


def filesystem_client_app(var_dir: Path) -> Celery:
    """A client of the embedded broker, configured the way the settings configure it."""
    broker = var_dir / "broker"
    app = Celery(
        "sgpadmin-test-client",
        broker="filesystem://",
        backend=f"db+sqlite:///{var_dir / 'celery-results.sqlite3'}",
    )
    app.conf.broker_transport_options = {
        "data_folder_in": str(broker / "queue"),
        "data_folder_out": str(broker / "queue"),
        "processed_folder": str(broker / "processed"),
        "control_folder": str(broker / "control"),
        "store_processed": False,
    }
    for folder in ("queue", "processed", "control"):
        (broker / folder).mkdir(parents=True, exist_ok=True)
    return app
