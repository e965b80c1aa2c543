"""The cluster watcher: list + watch nodes, CNINodes, pods, service accounts and
SecurityGroupPolicies of every configured cluster; keep inventory rows current; enqueue
reconciles.

One thread per (cluster, kind). Each loops: list (relist on start, on 410 Gone and after any
connection loss), apply every object, then watch from the list's resource version until the
watch ends (server timeout: continue from the last version seen) or fails. Objects that
vanished while we were not watching are applied as deletions on relist: those this process
had seen, and those only the inventory holds (deleted while no watcher ran, or whose deletion
failed to be written).

Run it with ``python -m worker watcher`` (or ``python -m apps.controller.watcher``);
``--cluster NAME`` limits it to some clusters. A full relist also happens every
``SGPADMIN_WATCH_RESYNC_SECONDS`` (default 1800), as an informer's resync.
"""

from __future__ import annotations

import argparse
import logging
import os
import threading
import time
from collections.abc import Callable

log = logging.getLogger("sgpadmin.watcher")
KINDS = ("Node", "CNINode", "ServiceAccount", "SecurityGroupPolicy", "Pod")
WATCH_TIMEOUT_SECONDS = 300
# Relist now and then even when all is well (an informer's resync): a safety net for events
# lost in ways the API server cannot report.
RESYNC_SECONDS = float(os.environ.get("SGPADMIN_WATCH_RESYNC_SECONDS", "1800"))
RETRY_DELAY_SECONDS = 2.0


def _key(kind: str, obj: dict) -> tuple[str, str]:
    meta = obj.get("metadata", {})
    return (meta.get("namespace", ""), meta.get("uid") if kind == "Pod" else meta.get("name"))


def celery_enqueue(cluster_id: int, work) -> None:
    from apps.controller.inventory_sync import NodeWork, PodRelease, PolicySyncWork
    from apps.controller.tasks import attach_pod_task, reconcile_node_task, request_release
    from apps.policies.tasks import sync_policies

    if isinstance(work, NodeWork):
        reconcile_node_task.delay(cluster_id, work.name)
    elif isinstance(work, PolicySyncWork):
        sync_policies.delay(cluster_id)
    elif isinstance(work, PodRelease):
        request_release(cluster_id, work.uid)
    else:
        attach_pod_task.delay(cluster_id, work.namespace, work.name, work.uid)


class KindWatcher:
    """List + watch of one kind in one cluster."""

    def __init__(self, cluster, kind: str, enqueue: Callable, stop: threading.Event,
                 watch_timeout: int = WATCH_TIMEOUT_SECONDS,
                 resync_seconds: float = RESYNC_SECONDS) -> None:
        from apps.controller.inventory_sync import APPLY
        from apps.controller.ports.cluster import ClusterPort

        self.cluster, self.kind, self.enqueue, self.stop = cluster, kind, enqueue, stop
        self.apply = APPLY[kind]
        self.port = ClusterPort(cluster)
        self.watch_timeout = watch_timeout
        self.known: dict[tuple[str, str], dict] = {}
        self.relists = 0
        self.version = ""  # "" means: list first
        self.resync_seconds = resync_seconds
        self.listed_at = 0.0

    def handle(self, event: str, obj: dict) -> list:
        """Apply one event to the inventory; the reconciles it calls for. ``known`` changes
        only once the inventory has: an event whose write fails is seen again on the relist
        that follows the failure."""
        from apps.core.context import ChangeContext, change_scope

        with change_scope(context=ChangeContext.WORKER, actor_name="watcher"):
            work = self.apply(self.cluster, event, obj)
        key = _key(self.kind, obj)
        if event == "DELETED":
            self.known.pop(key, None)
        else:
            self.known[key] = obj
        return work

    def forget(self, key: tuple[str, str]) -> list:
        """Apply the deletion of an object the inventory holds but this process never saw."""
        from apps.controller.inventory_sync import FORGET
        from apps.core.context import ChangeContext, change_scope

        with change_scope(context=ChangeContext.WORKER, actor_name="watcher"):
            return FORGET[self.kind](self.cluster, key)

    def relist(self) -> str:
        """List the kind and bring the inventory to it: objects that vanished, whether this
        process saw them or only the inventory holds them (deleted while no watcher ran), are
        applied as deletions; each reconcile the relist calls for is enqueued once."""
        from apps.controller.inventory_sync import stored_keys

        items, version = self.port.list(self.kind)
        listed = {_key(self.kind, obj) for obj in items}
        stored = stored_keys(self.cluster, self.kind)
        work: list = []
        for key, obj in list(self.known.items()):
            if key not in listed:
                work += self.handle("DELETED", obj)
        for key in sorted(stored - listed - self.known.keys()):
            work += self.forget(key)
        for obj in items:
            event = "ADDED" if _key(self.kind, obj) not in self.known else "MODIFIED"
            work += self.handle(event, obj)
        for item in dict.fromkeys(work):
            self.enqueue(self.cluster.pk, item)
        self.relists += 1
        self.listed_at = time.monotonic()
        return version

    def run(self) -> None:
        try:
            self._loop()
        finally:
            from django.db import connections

            connections.close_all()  # this thread's connections

    def _loop(self) -> None:
        from django.db import close_old_connections

        from apps.controller.ports.cluster import WatchExpired

        while not self.stop.is_set():
            try:
                if not self.version or time.monotonic() - self.listed_at > self.resync_seconds:
                    self.version = self.relist()
                for event, obj in self.port.watch(self.kind, self.version, self.watch_timeout):
                    self.version = obj.get("metadata", {}).get("resourceVersion", self.version)
                    if event != "BOOKMARK":
                        for work in self.handle(event, obj):
                            self.enqueue(self.cluster.pk, work)
                    if self.stop.is_set():
                        return
            except WatchExpired:
                log.info("%s/%s: watch expired, relisting", self.cluster.name, self.kind)
                self.version = ""
            except Exception:
                log.warning("%s/%s: watch failed, relisting", self.cluster.name, self.kind,
                            exc_info=True)
                self.version = ""
                close_old_connections()
                self.stop.wait(RETRY_DELAY_SECONDS)


def start_watcher(watcher: KindWatcher) -> threading.Thread:
    thread = threading.Thread(target=watcher.run, daemon=True,
                              name=f"watch-{watcher.cluster.name}-{watcher.kind}")
    thread.start()
    return thread


def start_watchers(clusters, enqueue: Callable = celery_enqueue,
                   stop: threading.Event | None = None, kinds=KINDS,
                   watch_timeout: int = WATCH_TIMEOUT_SECONDS) -> tuple[threading.Event, list]:
    stop = stop or threading.Event()
    watchers = []
    for cluster in clusters:
        for kind in kinds:
            watcher = KindWatcher(cluster, kind, enqueue, stop, watch_timeout)
            watchers.append((watcher, start_watcher(watcher)))
    return stop, watchers


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="watcher", description=__doc__.split("\n\n")[0])
    parser.add_argument("--cluster", action="append", default=[],
                        help="watch only this cluster (repeatable)")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sgpadmin.settings")
    import django

    django.setup()
    from apps.inventory.models import Cluster

    clusters = list(Cluster.objects.filter(name__in=args.cluster) if args.cluster
                    else Cluster.objects.all())
    if not clusters:
        log.error("no clusters configured")
        return 1
    from django.conf import settings

    from worker.liveness import touch, watcher_liveness_file

    stop, watchers = start_watchers(clusters)
    log.info("watching %d cluster(s): %s", len(clusters), ", ".join(c.name for c in clusters))
    alive = watcher_liveness_file(settings.VAR_DIR)
    try:
        # The liveness file stays fresh only while every watch thread runs
        # (``python -m worker health --watcher`` checks its age).
        while all(thread.is_alive() for _, thread in watchers):
            touch(alive)
            time.sleep(1)
        log.error("a watch thread stopped; exiting so that the supervisor restarts us")
        return 1
    except KeyboardInterrupt:
        stop.set()
        return 0
    finally:
        alive.unlink(missing_ok=True)


if __name__ == "__main__":
    raise SystemExit(main())
