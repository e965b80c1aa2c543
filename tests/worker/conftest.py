"""Real worker and beat processes for the worker tests, always stopped afterwards."""

from __future__ import annotations

import pytest

from tests.worker.processes import Processes


@pytest.fixture
def processes(tmp_path):
    """Factory of worker processes; every process is stopped when the test ends."""
    made: list[Processes] = []

    def make(redis_url: str = "") -> Processes:
        made.append(Processes(tmp_path, redis_url))
        return made[-1]

    yield make
    for group in made:
        group.stop_all()
