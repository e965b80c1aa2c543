"""Injected failures for the Kubernetes stand-in, for tests of error paths (a pod annotation
patch that fails, a list that times out into 500, a create that conflicts).

A failure matches requests by HTTP method and a regular expression searched in the path, and
answers the next ``count`` of them with ``status`` (an API ``Status`` body) instead of serving
them; the request has no effect. Set them with :meth:`KubeApiEmulator.inject_failure` or, from
another process, ``POST /_standin/failures`` with the same fields as JSON;
``DELETE /_standin/failures`` clears them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import aiohttp.web
import kmock

CONTROL_PREFIX = "/_standin/"
REASONS = {
    400: "BadRequest",
    403: "Forbidden",
    404: "NotFound",
    409: "Conflict",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}


@dataclass
class InjectedFailure:
    method: str  # GET, POST, PUT, PATCH, DELETE or "*"
    path: str  # regular expression, searched in the request path
    status: int = 500
    count: int = 1
    message: str = "injected failure from the Kubernetes stand-in"

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> InjectedFailure:
        unknown = set(document) - {"method", "path", "status", "count", "message"}
        if unknown:
            raise ValueError(f"unknown failure fields: {sorted(unknown)}")
        failure = cls(**document)
        re.compile(failure.path)
        return failure

    def matches(self, method: str, path: str) -> bool:
        return (
            self.count > 0
            and self.method.upper() in ("*", method.upper())
            and re.search(self.path, path) is not None
        )

    @property
    def reason(self) -> str:
        return REASONS.get(self.status, "InternalError")


def take_failure(failures: list[InjectedFailure], method: str, path: str) -> InjectedFailure | None:
    """The first failure matching the request, with one use spent; spent ones are dropped."""
    for failure in failures:
        if failure.matches(method, path):
            failure.count -= 1
            if failure.count <= 0:
                failures.remove(failure)
            return failure
    return None


class InjectedFailures:
    """Mixin of :class:`KubeApiEmulator`: the Python API and the HTTP control route.
    Needs ``_failures`` (a list) from the emulator."""

    def inject_failure(
        self,
        method: str,
        path: str,
        status: int = 500,
        count: int = 1,
        message: str = "injected failure from the Kubernetes stand-in",
    ) -> None:
        """Answer the next ``count`` requests ``method`` whose path matches the regular
        expression ``path`` with ``status``, without serving them (see :mod:`.failures`)."""
        self._failures.append(InjectedFailure(method, path, status, count, message))

    def clear_failures(self) -> None:
        self._failures.clear()

    def _control(self, request: kmock.Request) -> aiohttp.web.StreamResponse:
        route, method = request.url.path[len(CONTROL_PREFIX) :], request.method.value
        if route == "failures" and method == "POST":
            try:
                self._failures.append(InjectedFailure.from_json(json.loads(request.body)))
            except (ValueError, TypeError, re.error) as exc:
                return aiohttp.web.json_response({"error": str(exc)}, status=400)
        elif route == "failures" and method == "DELETE":
            self.clear_failures()
        elif not (route == "failures" and method == "GET"):
            return aiohttp.web.json_response({"error": f"no route {method} {route}"}, status=404)
        return aiohttp.web.json_response([vars(f) for f in self._failures])
