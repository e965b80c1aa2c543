"""Answers come from the in-process cache: no database query per review once warm, and a
committed change to a policy or a service account is seen within a second, by this
process and by another one that only shares the version stamps."""

from __future__ import annotations

import os
import time

import pytest
from django.db import DatabaseError

from apps.inventory.models import ServiceAccount
from apps.webhooks.cache import (
    WebhookCache,
    cluster_key,
    invalidate_webhook_cache,
    load_snapshot,
    webhook_cache,
)
from apps.webhooks.stamps import FileStamps, RedisStamps

from .factories import (
    POD_LABELS,
    SA_LABELS,
    SELECTOR,
    make_cluster,
    make_policy,
    make_service_account,
    pod,
    post_review,
    review,
)

PROPAGATION_SECONDS = 1.0


def matches(client, answer, obj=None, path="/mutate-v1-pod") -> bool:
    result = answer(post_review(client, review(obj or pod(labels=POD_LABELS)), path=path))
    return result.patch is not None


def within_a_second(condition) -> float:
    """Poll ``condition`` for at most a second; the seconds it took to become true."""
    start = time.monotonic()
    while time.monotonic() - start < PROPAGATION_SECONDS:
        if condition():
            return time.monotonic() - start
        time.sleep(0.02)
    raise AssertionError("the change was not seen within a second")


@pytest.fixture
def cluster(db):
    cluster = make_cluster()
    make_service_account(cluster, labels=SA_LABELS)
    for index in range(3):
        make_policy(cluster, namespace=f"ns-{index}", pod_selector={})
    return cluster


@pytest.mark.django_db
def test_no_query_per_review_once_warm(
    client, answer, cluster, settings, django_assert_num_queries
):
    settings.SGPADMIN_WEBHOOK_STAMP_CHECK_SECONDS = 0.01
    make_policy(cluster, pod_selector=SELECTOR, sa_selector=SELECTOR)
    assert matches(client, answer)  # warm-up: loads the cluster map and the snapshot
    with django_assert_num_queries(0):
        for round_ in range(40):
            if round_ % 10 == 0:
                time.sleep(0.02)  # past the check interval: the stamp is read, not the DB
            assert matches(client, answer)
            assert not matches(client, answer, pod(labels={"role": "web"}))
            assert answer(post_review(client, review(pod()), path="/validate-v1-pod")).allowed


@pytest.mark.django_db
def test_a_new_policy_is_seen_within_a_second(
    client, answer, cluster, django_capture_on_commit_callbacks
):
    assert not matches(client, answer)
    with django_capture_on_commit_callbacks(execute=True):
        make_policy(cluster, pod_selector=SELECTOR)
    within_a_second(lambda: matches(client, answer))


@pytest.mark.django_db
def test_a_changed_and_a_deleted_policy_are_seen_within_a_second(
    client, answer, cluster, django_capture_on_commit_callbacks
):
    policy = make_policy(cluster, pod_selector=SELECTOR)
    assert matches(client, answer)
    with django_capture_on_commit_callbacks(execute=True):
        policy.spec = {**policy.spec, "podSelector": {"matchLabels": {"role": "web"}}}
        policy.save()
    within_a_second(lambda: not matches(client, answer))
    assert matches(client, answer, pod(labels={"role": "web"}))
    with django_capture_on_commit_callbacks(execute=True):
        policy.delete()
    within_a_second(lambda: not matches(client, answer, pod(labels={"role": "web"})))


@pytest.mark.django_db
def test_changed_service_account_labels_are_seen_within_a_second(
    client, answer, cluster, django_capture_on_commit_callbacks
):
    make_policy(cluster, sa_selector=SELECTOR)
    assert matches(client, answer)
    account = ServiceAccount.objects.get(cluster=cluster, name="default")
    with django_capture_on_commit_callbacks(execute=True):
        account.labels = {**SA_LABELS, "environment": "dev"}
        account.save()
    within_a_second(lambda: not matches(client, answer))


@pytest.mark.django_db
def test_a_bulk_writer_invalidates_explicitly(
    client, answer, cluster, django_capture_on_commit_callbacks
):
    make_policy(cluster, sa_selector=SELECTOR)
    assert matches(client, answer)
    with django_capture_on_commit_callbacks(execute=True):
        ServiceAccount.objects.filter(cluster=cluster).update(labels={})  # no signals
        invalidate_webhook_cache(cluster)
    within_a_second(lambda: not matches(client, answer))


@pytest.mark.django_db
def test_another_process_sees_the_change_through_the_stamp_alone(
    cluster, django_capture_on_commit_callbacks
):
    """A second cache on the same stamp store stands for another gunicorn worker: it is
    not told directly, it only reads the stamp."""
    other_worker = WebhookCache(webhook_cache().stamps, check_seconds=0.25)
    key = cluster_key(cluster.pk)

    def groups() -> tuple[str, ...]:
        snapshot = other_worker.get(key, lambda: load_snapshot(cluster.pk, cluster.name))
        return snapshot.match("default", POD_LABELS, "default").group_ids

    assert groups() == ()
    with django_capture_on_commit_callbacks(execute=True):
        make_policy(cluster, pod_selector=SELECTOR, groups=["sg-new"])
    within_a_second(lambda: groups() == ("sg-new",))


class CountingLoader:
    def __init__(self):
        self.calls = 0
        self.fail = False

    def __call__(self):
        if self.fail:
            raise DatabaseError("connection refused")
        self.calls += 1
        return self.calls


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def make_cache(tmp_path, check=0.25, max_age=60.0):
    clock = FakeClock()
    return WebhookCache(FileStamps(tmp_path), check, max_age, clock=clock), clock


def test_the_stamp_is_read_at_most_once_per_check_interval(tmp_path, monkeypatch):
    cache, clock = make_cache(tmp_path)
    load = CountingLoader()
    reads = []
    real_read = cache.stamps.read
    monkeypatch.setattr(cache.stamps, "read", lambda key: reads.append(key) or real_read(key))
    assert cache.get("k", load) == 1
    for _ in range(100):
        clock.now += 0.001
        assert cache.get("k", load) == 1
    assert len(reads) == 1
    clock.now += 0.25
    cache.get("k", load)
    assert len(reads) == 2 and load.calls == 1


def test_a_bumped_stamp_reloads_after_the_check_interval(tmp_path):
    cache, clock = make_cache(tmp_path)
    load = CountingLoader()
    assert cache.get("k", load) == 1
    FileStamps(tmp_path).bump("k")  # another process
    assert cache.get("k", load) == 1
    clock.now += 0.25
    assert cache.get("k", load) == 2


def test_the_maximum_age_reloads_without_a_stamp_change(tmp_path):
    cache, clock = make_cache(tmp_path, max_age=60)
    load = CountingLoader()
    cache.get("k", load)
    clock.now += 59
    assert cache.get("k", load) == 1
    clock.now += 1
    assert cache.get("k", load) == 2


def test_an_unreadable_stamp_keeps_the_cache_until_the_maximum_age(tmp_path, monkeypatch):
    cache, clock = make_cache(tmp_path, max_age=60)
    load = CountingLoader()
    cache.get("k", load)
    monkeypatch.setattr(cache.stamps, "read", lambda key: None)
    clock.now += 30
    assert cache.get("k", load) == 1
    clock.now += 30
    assert cache.get("k", load) == 2


def test_a_failed_reload_serves_the_old_copy_and_retries_after_the_interval(tmp_path):
    cache, clock = make_cache(tmp_path)
    load = CountingLoader()
    cache.get("k", load)
    cache.bump("k")
    load.fail = True
    attempts = []
    failing = load.__call__

    def counted():
        attempts.append(clock.now)
        return failing()

    for _ in range(50):  # a down database is not asked once per review
        assert cache.get("k", counted) == 1
    assert len(attempts) == 1
    clock.now += 0.25
    load.fail = False
    assert cache.get("k", counted) == 2
    with pytest.raises(DatabaseError):
        load.fail = True
        cache.get("other", load)


@pytest.mark.django_db
def test_a_database_failure_without_a_cached_copy_denies_with_the_reason(
    client, answer, cluster, monkeypatch
):
    assert answer(post_review(client, review(pod()), path="/validate-v1-pod")).allowed

    def broken(*args):
        raise DatabaseError("connection refused")

    monkeypatch.setattr("apps.webhooks.service.load_snapshot", broken)
    result = answer(post_review(client, review(pod(labels=POD_LABELS))))
    assert not result.allowed
    assert "connection refused" in result.message


def test_file_stamps_change_on_every_bump(tmp_path):
    stamps = FileStamps(tmp_path / "new-dir")
    assert stamps.read("k") == ""
    seen = set()
    for _ in range(20):
        stamps.bump("k")
        seen.add(stamps.read("k"))
    assert len(seen) == 20
    assert sorted(os.listdir(tmp_path / "new-dir")) == ["k.stamp"]


@pytest.mark.redis
def test_redis_stamps_change_on_every_bump():
    stamps = RedisStamps(os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15")
    key = f"test-{os.getpid()}-{time.monotonic_ns()}"
    before = stamps.read(key)
    stamps.bump(key)
    assert stamps.read(key) != before
    stamps.client.delete(stamps.prefix + key)


def test_unreachable_redis_reads_as_unknown():
    stamps = RedisStamps("redis://127.0.0.1:1/0", timeout=0.05)
    assert stamps.read("k") is None
