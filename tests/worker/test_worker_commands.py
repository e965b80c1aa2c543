"""The worker entry point's commands, liveness rule and beat schedule, in-process."""

from __future__ import annotations

import os
import time
from types import SimpleNamespace

import pytest
from celery import bootsteps

from worker.__main__ import main
from worker.liveness import check_liveness, liveness_file, touch, worker_is_running
from worker.schedule import beat_schedule


def test_unknown_command_prints_usage(capsys):
    assert main([]) == 2
    assert main(["serve"]) == 2
    assert "python -m worker {worker,beat,health,watcher}" in capsys.readouterr().err


def test_liveness_missing_file(tmp_path):
    ok, message = check_liveness(tmp_path / "alive", max_age=30)
    assert not ok
    assert "does not exist" in message


def test_liveness_fresh_and_stale(tmp_path):
    path = tmp_path / "worker" / "alive"
    touch(path)
    assert check_liveness(path, max_age=30)[0]
    os.utime(path, (time.time() - 120, time.time() - 120))
    ok, message = check_liveness(path, max_age=30)
    assert not ok
    assert "last touched 120s ago" in message


def _worker(worker_state, consumer_state=None):
    blueprint = SimpleNamespace(state=worker_state)
    consumer = (
        None
        if consumer_state is None
        else SimpleNamespace(blueprint=SimpleNamespace(state=consumer_state))
    )
    return SimpleNamespace(blueprint=blueprint, consumer=consumer)


def test_alive_only_while_worker_and_consumer_run():
    assert worker_is_running(_worker(bootsteps.RUN, bootsteps.RUN))
    assert not worker_is_running(_worker(bootsteps.RUN, bootsteps.CLOSE))  # broker lost
    assert not worker_is_running(_worker(bootsteps.RUN, None))  # not started yet
    assert not worker_is_running(_worker(bootsteps.TERMINATE, bootsteps.RUN))


def test_liveness_file_location(tmp_path, monkeypatch):
    monkeypatch.delenv("SGPADMIN_WORKER_LIVENESS_FILE", raising=False)
    assert liveness_file(tmp_path) == tmp_path / "worker" / "alive"
    monkeypatch.setenv("SGPADMIN_WORKER_LIVENESS_FILE", str(tmp_path / "w1.alive"))
    assert liveness_file(tmp_path) == tmp_path / "w1.alive"


def test_health_command_reads_the_configured_file(tmp_path, monkeypatch, capsys):
    path = tmp_path / "alive"
    monkeypatch.setenv("SGPADMIN_WORKER_LIVENESS_FILE", str(path))
    assert main(["health"]) == 1
    touch(path)
    assert main(["health", "--max-age", "5"]) == 0
    assert "worker alive" in capsys.readouterr().out


def test_every_scheduled_task_is_registered():
    from sgpadmin.celery import app

    app.loader.import_default_modules()
    schedule = beat_schedule()
    assert schedule["heartbeat"]["task"] == "core.heartbeat"
    missing = [entry["task"] for entry in schedule.values() if entry["task"] not in app.tasks]
    assert missing == []


def test_schedule_intervals_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("SGPADMIN_HEARTBEAT_SECONDS", "2.5")
    assert beat_schedule()["heartbeat"]["schedule"] == 2.5


@pytest.mark.django_db
def test_heartbeat_task_records_and_returns_the_run(settings, tmp_path):
    from apps.core.tasks import heartbeat, heartbeat_record_path

    settings.VAR_DIR = tmp_path
    record = heartbeat.apply(kwargs={"note": "eager"}).get()
    assert record["note"] == "eager"
    assert record["pid"] == os.getpid()
    assert heartbeat_record_path() == tmp_path / "worker" / "last-heartbeat.json"
    assert heartbeat_record_path().read_text().count('"note": "eager"') == 1


def _effective_worker_options(monkeypatch, args: list[str]) -> dict:
    """The options Celery's own command line parser makes of what run_worker passes."""
    from celery.bin.worker import worker as worker_command

    from sgpadmin.celery import app
    from worker import __main__ as entry

    passed: list[str] = []
    monkeypatch.setattr(app, "worker_main", lambda argv: passed.extend(argv))
    monkeypatch.setattr(app, "steps", {"worker": set()})
    monkeypatch.delenv("SGPADMIN_WORKER_METRICS_PORT", raising=False)
    entry.run_worker(args)
    assert passed[0] == "worker"
    context = worker_command.make_context("worker", passed[1:], obj=SimpleNamespace(app=app))
    return context.params


def test_worker_runs_the_threads_pool_by_default(monkeypatch):
    params = _effective_worker_options(monkeypatch, [])
    assert (params["pool"].__module__, params["concurrency"]) == (
        "celery.concurrency.thread", 16)


def test_worker_pool_and_concurrency_given_on_the_command_line_win(monkeypatch):
    params = _effective_worker_options(monkeypatch, ["--pool=prefork", "--concurrency=3"])
    assert (params["pool"].__module__, params["concurrency"]) == (
        "celery.concurrency.prefork", 3)
