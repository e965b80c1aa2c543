"""The webhooks' in-process cache of policies and service-account labels.

Why: the API server calls the mutating webhook for every pod creation, and answers
must be fast and must not load the database. So each web process keeps, per cluster,
an immutable :class:`~apps.webhooks.lookup.ClusterSnapshot` (policies by namespace,
service-account labels by namespace and name) plus the map of cluster names, and
answers every review from memory: no database query per review.

How a change is seen (within about ``SGPADMIN_WEBHOOK_STAMP_CHECK_SECONDS``, 0.25 s):

- every write to a Policy or ServiceAccount (``post_save`` / ``post_delete``) and every
  bulk writer (which calls :func:`invalidate_webhook_cache`) bumps a per-cluster
  *version stamp* when its transaction commits; a Cluster write bumps the stamp of the
  cluster map;
- the stamp lives where every web process can read it without a database query: in
  Redis when ``REDIS_URL`` is set (shared by replicas on several hosts), otherwise in a
  file under ``VAR_DIR`` (shared by the gunicorn workers of one host);
- a process reads the stamp at most once per check interval, and reloads the
  snapshot (two queries) only when the stamp has changed, or after
  ``SGPADMIN_WEBHOOK_CACHE_MAX_AGE_SECONDS`` (60 s) as a safety net; the process that
  made the change also drops its own copy at once.

The stamp is read *before* the snapshot is loaded, so a change that commits during a
load bumps the stamp again and is picked up at the next check. When a reload fails
(database down) the previous snapshot keeps serving and the reload is retried once per
check interval, not once per review; with none, the lookup fails and
the mutating webhook denies with the reason, as upstream does on a cache error.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DatabaseError, transaction

from . import conf
from .lookup import ClusterSnapshot
from .stamps import FileStamps, RedisStamps

logger = logging.getLogger(__name__)

CLUSTERS_KEY = "clusters"


def cluster_key(cluster_id: int) -> str:
    return f"cluster-{cluster_id}"


@dataclass
class _Entry:
    value: Any
    stamp: str | None
    loaded_at: float
    checked_at: float
    dirty: bool = False
    retry_at: float = 0.0  # after a failed reload, not before this


class WebhookCache:
    """Values loaded from the database, revalidated against version stamps."""

    def __init__(
        self,
        stamps: FileStamps | RedisStamps,
        check_seconds: float = 0.25,
        max_age_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.stamps = stamps
        self.check_seconds = check_seconds
        self.max_age_seconds = max_age_seconds
        self.clock = clock
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def get(self, key: str, load: Callable[[], Any]) -> Any:
        """The cached value for ``key``, reloaded with ``load`` when its stamp changed."""
        entry = self._entries.get(key)
        now = self.clock()
        if entry is not None and (
            now < entry.retry_at
            or (not entry.dirty and now - entry.checked_at < self.check_seconds)
        ):
            return entry.value
        stamp = self.stamps.read(key)
        if (
            entry is not None
            and not entry.dirty
            and (stamp is None or stamp == entry.stamp)
            and now - entry.loaded_at < self.max_age_seconds
        ):
            entry.checked_at = now
            return entry.value
        with self._lock:
            try:
                value = load()
            except DatabaseError as error:
                if entry is None:
                    raise
                logger.warning(
                    "webhook cache %s: reload failed, serving the old copy: %s", key, error
                )
                entry.retry_at = now + self.check_seconds
                return entry.value
            self._entries[key] = _Entry(value=value, stamp=stamp, loaded_at=now, checked_at=now)
        return value

    def mark_dirty(self, key: str) -> None:
        entry = self._entries.get(key)
        if entry is not None:
            entry.dirty = True

    def bump(self, key: str) -> None:
        """Announce a committed change of ``key`` to every process (and this one)."""
        self.mark_dirty(key)
        self.stamps.bump(key)


def load_clusters() -> dict[str, int]:
    from apps.inventory.models import Cluster

    return dict(Cluster.objects.values_list("name", "pk"))


def load_snapshot(cluster_id: int, cluster_name: str) -> ClusterSnapshot:
    from apps.inventory.models import ServiceAccount
    from apps.policies.matching import PolicyView
    from apps.policies.models import Policy

    by_namespace: dict[str, list[PolicyView]] = {}
    rows = (
        Policy.objects.filter(cluster_id=cluster_id)
        .order_by("namespace", "name")
        .values_list("namespace", "name", "spec")
    )
    for namespace, name, spec in rows:
        by_namespace.setdefault(namespace, []).append(PolicyView(name=name, spec=spec or {}))
    accounts = {
        (namespace, name): dict(labels or {})
        for namespace, name, labels in ServiceAccount.objects.filter(
            cluster_id=cluster_id
        ).values_list("namespace", "name", "labels")
    }
    return ClusterSnapshot(
        cluster=cluster_name,
        policies={ns: tuple(views) for ns, views in by_namespace.items()},
        service_accounts=accounts,
    )


_cache: WebhookCache | None = None
_cache_lock = threading.Lock()


def webhook_cache() -> WebhookCache:
    """This process's cache, built from the settings on first use."""
    global _cache
    if _cache is None:
        with _cache_lock:
            if _cache is None:
                _cache = WebhookCache(
                    _configured_stamps(),
                    check_seconds=conf.stamp_check_seconds(),
                    max_age_seconds=conf.cache_max_age_seconds(),
                )
    return _cache


def reset_webhook_cache() -> None:
    """Forget the cache (tests, or after changing the settings)."""
    global _cache
    with _cache_lock:
        _cache = None


def _configured_stamps() -> FileStamps | RedisStamps:
    if conf.stamp_backend() == "redis":
        return RedisStamps(settings.REDIS_URL)
    return FileStamps(conf.stamp_dir())


def invalidate_webhook_cache(cluster: Any) -> None:
    """Make every web process reload ``cluster``'s policies and service accounts.

    For bulk writers that bypass model signals (``QuerySet.update``, ``bulk_create``).
    ``cluster`` is a Cluster or its primary key. Takes effect when the current
    transaction commits (at once outside a transaction).
    """
    cluster_id = getattr(cluster, "pk", cluster)
    _bump_on_commit(cluster_key(int(cluster_id)))


def invalidate_cluster_list() -> None:
    _bump_on_commit(CLUSTERS_KEY)


def _bump_on_commit(key: str) -> None:
    transaction.on_commit(lambda: webhook_cache().bump(key), robust=True)
