"""The watcher's liveness file: fresh while every watch thread runs, gone when it stops."""

import threading
import time

import pytest

from apps.controller import watcher
from apps.inventory.models import Cluster
from worker.__main__ import main as worker_main

pytestmark = pytest.mark.django_db(transaction=True)


def test_watcher_is_alive_only_while_its_threads_run(settings, tmp_path, monkeypatch, capsys):
    settings.VAR_DIR = tmp_path
    Cluster.objects.create(name="c1", vpc_id="vpc-00000001")
    thread_stop = threading.Event()
    fake = threading.Thread(target=thread_stop.wait, daemon=True)
    fake.start()
    monkeypatch.setattr(
        watcher, "start_watchers", lambda clusters: (threading.Event(), [(None, fake)])
    )
    result = {}
    runner = threading.Thread(target=lambda: result.setdefault("rc", watcher.main([])), daemon=True)
    runner.start()
    alive = tmp_path / "watcher" / "alive"
    deadline = time.monotonic() + 10
    while not alive.exists():
        assert time.monotonic() < deadline, "the watcher never touched its liveness file"
        time.sleep(0.05)
    assert worker_main(["health", "--watcher"]) == 0
    assert "watcher alive" in capsys.readouterr().out

    thread_stop.set()  # a watch thread dies: the watcher exits for its supervisor to restart
    runner.join(10)
    assert result["rc"] == 1
    assert not alive.exists()
    assert worker_main(["health", "--watcher"]) == 1
