"""Retry and requeue policy of the controller's Celery tasks."""

from types import SimpleNamespace

from hypothesis import given
from hypothesis import strategies as st

from apps.controller.tasks import BACKOFF_CAP_SECONDS, backoff, same_queue


@given(st.integers(min_value=0, max_value=40))
def test_backoff_is_capped_exponential_with_full_jitter(retries):
    delay = backoff(retries)
    assert 0 <= delay <= min(BACKOFF_CAP_SECONDS, 2 ** retries)


def test_backoff_spreads_retries_out():
    delays = {round(backoff(6), 3) for _ in range(50)}
    assert len(delays) > 10  # jitter: duplicates of one failure do not retry in lockstep


def test_follow_ups_stay_on_the_queue_the_task_came_from():
    task = SimpleNamespace(request=SimpleNamespace(delivery_info={"routing_key": "controller-a"}))
    assert same_queue(task) == {"queue": "controller-a"}
    eager = SimpleNamespace(request=SimpleNamespace(delivery_info=None))
    assert same_queue(eager) == {}
