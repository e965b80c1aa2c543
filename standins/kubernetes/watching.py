"""Watch semantics of the API server, over the emulator's event log.

Each write gets the next resource version (one counter for the whole stand-in, as etcd's
revision) and one event in a bounded log. A watch:

- without ``resourceVersion`` (or ``"0"``) starts with a synthetic ``ADDED`` per existing object,
  then streams changes;
- with ``resourceVersion=N`` streams the changes after N, or answers one ``ERROR`` event with
  code 410 (``Expired``) when N is older than what the log still holds: the official client
  then re-lists, as against a real API server;
- honours label and field selectors as the API server does: an object that starts matching
  arrives as ``ADDED``, one that stops matching leaves as ``DELETED``;
- from a version the stand-in has not reached (the client saw another server, or one before a
  restart) waits up to 3 s for it, then answers an ``ERROR`` event with code 504 (``Timeout``,
  cause ``ResourceVersionTooLarge``), as the API server does; clients then re-list;
- ends after ``timeoutSeconds``, if given (the official client then reconnects from the last
  resource version it saw).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class WatchEvent:
    revision: int
    resource_key: str  # ServedResource.key
    type: str  # ADDED, MODIFIED, DELETED
    object: dict[str, Any]
    previous: dict[str, Any] | None = None


def gone_event(requested: int, oldest: int) -> dict[str, Any]:
    return {
        "type": "ERROR",
        "object": {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": f"too old resource version: {requested} ({oldest})",
            "reason": "Expired",
            "code": 410,
        },
    }


def too_large_event(requested: int, current: int) -> dict[str, Any]:
    """What the API server answers a watch from a version it has not reached (504)."""
    return {
        "type": "ERROR",
        "object": {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": f"Timeout: Too large resource version: {requested}, current: {current}",
            "reason": "Timeout",
            "details": {
                "causes": [
                    {"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}
                ],
                "retryAfterSeconds": 1,
            },
            "code": 504,
        },
    }


def visible_event(event: WatchEvent, wanted: Callable[[Mapping[str, Any]], bool]) -> dict | None:
    """The event as a watcher with this filter sees it, or None when it sees nothing."""
    now = wanted(event.object)
    if event.type == "MODIFIED":
        before = event.previous is not None and wanted(event.previous)
        if before and now:
            return {"type": "MODIFIED", "object": event.object}
        if now:
            return {"type": "ADDED", "object": event.object}
        if before:
            return {"type": "DELETED", "object": event.object}
        return None
    return {"type": event.type, "object": event.object} if now else None


def parse_resource_version(value: str | None) -> int | None:
    """None means "start from the current state" (absent, empty or "0")."""
    if value in (None, "", "0"):
        return None
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"invalid resourceVersion {value!r}") from None
