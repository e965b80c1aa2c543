"""A real worker process runs the project's tasks, on Redis and on the embedded broker;
beat drives it; its liveness file tells a probe whether it is alive."""

from __future__ import annotations

import json
import os

import pytest

from tests.worker.processes import (
    START_TIMEOUT,
    filesystem_client_app,
    redis_client_app,
    stop,
    unique_queue,
    wait_for,
)

REDIS_TEST_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"
WORKER_OPTIONS = ("--pool=solo", "--concurrency=1")


def run_heartbeat(client, queue: str, note: str) -> dict:
    result = client.send_task("core.heartbeat", kwargs={"note": note}, queue=queue)
    try:
        return result.get(timeout=START_TIMEOUT)
    finally:
        result.forget()


@pytest.mark.redis
def test_worker_runs_a_task_on_redis(processes, tmp_path):
    queue = unique_queue()
    worker, log = processes(redis_url=REDIS_TEST_URL).start(
        "worker", *WORKER_OPTIONS, "-Q", queue, log_name="worker"
    )
    client = redis_client_app(REDIS_TEST_URL)
    try:
        record = run_heartbeat(client, queue, "over redis")
    finally:
        client.close()
    assert record["note"] == "over redis"
    assert record["pid"] == worker.pid  # the solo pool runs tasks in the worker process
    assert "redis://" in log.read_text()
    written = json.loads((tmp_path / "worker" / "last-heartbeat.json").read_text())
    assert written == record


def test_worker_runs_a_task_on_the_embedded_filesystem_broker(processes, tmp_path):
    queue = unique_queue()
    worker, log = processes().start("worker", *WORKER_OPTIONS, "-Q", queue, log_name="worker")
    client = filesystem_client_app(tmp_path)
    try:
        record = run_heartbeat(client, queue, "no server needed")
    finally:
        client.close()
    assert record["note"] == "no server needed"
    assert record["pid"] == worker.pid
    assert "filesystem://" in log.read_text()
    assert json.loads((tmp_path / "worker" / "last-heartbeat.json").read_text()) == record
    # The embedded broker lives under VAR_DIR, nowhere else.
    assert (tmp_path / "broker" / "queue").is_dir()


@pytest.mark.parametrize(
    "redis_url", ["", pytest.param(REDIS_TEST_URL, marks=pytest.mark.redis)], ids=["fs", "redis"]
)
def test_liveness_probe_follows_the_worker(processes, tmp_path, redis_url):
    group = processes(redis_url=redis_url)
    alive_file = tmp_path / "worker" / "alive"
    assert group.run("health").returncode == 1  # nothing started yet
    worker, log = group.start(
        "worker",
        *WORKER_OPTIONS,
        "-Q",
        unique_queue(),
        log_name="worker",
        SGPADMIN_WORKER_LIVENESS_SECONDS="0.5",
    )
    wait_for(alive_file.exists, START_TIMEOUT, "the worker's liveness file", log)
    first = alive_file.stat().st_mtime
    wait_for(lambda: alive_file.stat().st_mtime > first, 10, "the file to be touched again", log)
    healthy = group.run("health", "--max-age", "5")
    assert healthy.returncode == 0, healthy.stderr
    assert "worker alive" in healthy.stdout
    stop(worker)
    assert not alive_file.exists()  # a clean shutdown removes it
    gone = group.run("health")
    assert gone.returncode == 1
    assert "no worker" in gone.stderr


@pytest.mark.slow
def test_beat_sends_the_heartbeat_to_a_worker(processes, tmp_path):
    group = processes()
    record_file = tmp_path / "worker" / "last-heartbeat.json"
    worker, _ = group.start("worker", *WORKER_OPTIONS, log_name="worker")
    beat, beat_log = group.start("beat", log_name="beat", SGPADMIN_HEARTBEAT_SECONDS="1")

    def beat_heartbeat_recorded():
        return record_file.exists() and json.loads(record_file.read_text())["note"] == "beat"

    wait_for(beat_heartbeat_recorded, START_TIMEOUT, "a heartbeat sent by beat", beat_log)
    assert (tmp_path / "worker").glob("celerybeat-schedule*")
    assert beat.poll() is None and worker.poll() is None
