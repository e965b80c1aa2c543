"""List and watch for the emulator: selectors, pages, and the watch semantics of
:mod:`.watching` over the emulator's event log (a mixin of :class:`KubeApiEmulator`)."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator
from typing import Any

import kmock

from standins.kubernetes import watching
from standins.kubernetes.errors import api_error
from standins.kubernetes.resources import ServedResource
from standins.kubernetes.selectors import SelectorError, object_selector

TOO_LARGE_WAIT_SECONDS = 3.0


class ListAndWatch:
    """Needs from the emulator: ``_objects``, ``_lock``, ``_changed``, ``_events``,
    ``_revision``, ``_closing`` and ``_served_for``."""

    def _matching(self, served: ServedResource, request: kmock.Request) -> list[dict]:
        try:
            wanted = object_selector(
                request.params.get("labelSelector"), request.params.get("fieldSelector")
            )
        except SelectorError as exc:
            raise api_error(400, "BadRequest", str(exc)) from exc
        found = []
        for (resource, namespace, name), obj in self._objects.items():
            if (resource.group, resource.version, resource.plural) != (
                served.group,
                served.version,
                served.plural,
            ) or obj.deleted:
                continue
            if request.namespace is not None and namespace != request.namespace:
                continue
            if request.name is not None and name != request.name:
                continue
            raw = copy.deepcopy(obj.raw)
            if wanted(raw):
                found.append(raw)
        return sorted(
            found, key=lambda o: (o["metadata"].get("namespace") or "", o["metadata"]["name"])
        )

    async def _serve_list(self, request: kmock.Request) -> Any:
        if request.params.get("watch", "").lower() in ("true", "1"):
            return self._serve_watch(request)
        served = self._served_for(request)
        async with self._lock:
            items = self._matching(served, request)
            revision = self._revision
        start = int(request.params.get("continue") or 0)
        limit = int(request.params.get("limit") or 0)
        page = items[start : start + limit] if limit else items[start:]
        metadata: dict[str, Any] = {"resourceVersion": str(revision)}
        if limit and start + limit < len(items):
            metadata["continue"] = str(start + limit)
            metadata["remainingItemCount"] = len(items) - start - limit
        return {
            "apiVersion": served.api_version,
            "kind": f"{served.kind}List",
            "metadata": metadata,
            "items": page,
        }

    async def _serve_watch(self, request: kmock.Request) -> AsyncIterator[Any]:
        served = self._served_for(request)
        try:
            since = watching.parse_resource_version(request.params.get("resourceVersion"))
            wanted = object_selector(
                request.params.get("labelSelector"), request.params.get("fieldSelector")
            )
        except ValueError as exc:
            raise api_error(400, "BadRequest", str(exc)) from exc
        loop = asyncio.get_running_loop()
        timeout = request.params.get("timeoutSeconds")
        deadline = loop.time() + float(timeout) if timeout else None
        yield b""  # send the headers now, as kmock's own watch does

        async with self._lock:
            if since is None:
                initial = self._matching(served, request)
                since = self._revision
            else:
                initial = []
                oldest = self._events[0].revision if self._events else self._revision + 1
                if since < oldest - 1:
                    yield watching.gone_event(since, oldest)
                    return
        for obj in initial:
            yield {"type": "ADDED", "object": obj}
        if not await self._reached(since, loop.time() + TOO_LARGE_WAIT_SECONDS):
            yield watching.too_large_event(since, self._revision)
            return

        def relevant(event: watching.WatchEvent) -> bool:
            meta = event.object.get("metadata", {})
            return (
                event.resource_key == served.key
                and (request.namespace is None or meta.get("namespace") == request.namespace)
                and (request.name is None or meta.get("name") == request.name)
            )

        cursor = since
        while True:
            async with self._changed:
                # Checked under the lock: close_watches() notifies under it, so a watch
                # cannot miss the wake-up between this check and its wait.
                if self._closing:
                    return
                if self._events and cursor < self._events[0].revision - 1:
                    yield watching.gone_event(cursor, self._events[0].revision)
                    return  # the watcher fell behind the log (or the stand-in was reset)
                pending = self._events_after(cursor)
                if not pending:
                    remaining = None if deadline is None else deadline - loop.time()
                    if remaining is not None and remaining <= 0:
                        return
                    try:
                        await asyncio.wait_for(self._changed.wait(), remaining)
                    except TimeoutError:
                        return
                    continue
            for event in pending:
                cursor = event.revision
                if relevant(event) and (seen := watching.visible_event(event, wanted)):
                    yield seen

    async def _reached(self, revision: int, deadline: float) -> bool:
        """Whether the log reaches ``revision`` by ``deadline``: a version from the future
        (a client that saw another server) waits a little, as the API server's cache does."""
        loop = asyncio.get_running_loop()
        async with self._changed:
            while self._revision < revision and not self._closing:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                try:
                    await asyncio.wait_for(self._changed.wait(), remaining)
                except TimeoutError:
                    break
        return self._revision >= revision

    def _events_after(self, revision: int) -> list[watching.WatchEvent]:
        """Events after ``revision``; revisions in the log are consecutive, so index directly."""
        if not self._events:
            return []
        first = self._events[0].revision
        start = max(0, revision + 1 - first)
        return [self._events[i] for i in range(start, len(self._events))]
