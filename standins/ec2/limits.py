"""WSGI middleware in front of moto's EC2: AWS's throttling, latency, injected faults, counters.

Every EC2 call (form-encoded ``Action=...``) passes through :class:`EC2Limits`, in this order:
latency, token bucket, injected fault ("before"), moto, injected fault ("after"), counter.
Requests that carry the header ``X-Standin-Bypass: 1`` (the seeding helpers send it) skip all of
that and are not counted, so benchmarks count only the system under test.

The run-time configuration is one JSON document (see :data:`DEFAULT_CONFIG`), readable and
changeable over HTTP on the same port, because the callers (Celery workers) live in other
processes:

- ``GET /_standin/config``; ``POST /_standin/config`` with a JSON object whose top-level keys
  replace the current ones; the new configuration is returned. Changing ``throttle`` refills the
  buckets.
- ``GET /_standin/counters``: ``{"calls": {action: {outcome: n}}, "injected": {...}}`` where
  outcome is ``ok`` or the EC2 error code. ``DELETE /_standin/counters`` zeroes them.
- ``POST /_standin/reset``: forget all EC2 state (moto's reset), counters and buckets.

Throttling follows EC2's token buckets
(docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html):
a bucket per action, full at start, refilled continuously; an empty bucket answers HTTP 503 with
``RequestLimitExceeded`` in EC2's XML error format, like EC2.
"""

from __future__ import annotations

import copy
import io
import json
import random
import re
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from standins.ec2 import trunking

CONTROL_PREFIX = "/_standin/"
BYPASS_HEADER = "X-Standin-Bypass"

# (burst, refill per second) by action, then by category; reference §8.2.
AWS_THROTTLE: dict[str, Any] = {
    "actions": {
        "CreateNetworkInterface": {"burst": 100, "refill_per_second": 5},
        "DeleteNetworkInterface": {"burst": 100, "refill_per_second": 5},
        "ModifyNetworkInterfaceAttribute": {"burst": 100, "refill_per_second": 5},
        "AssignPrivateIpAddresses": {"burst": 100, "refill_per_second": 5},
        "UnassignPrivateIpAddresses": {"burst": 100, "refill_per_second": 5},
        "CreateTags": {"burst": 100, "refill_per_second": 10},
    },
    "mutating": {"burst": 50, "refill_per_second": 5},
    "describe": {"burst": 100, "refill_per_second": 20},
}

DEFAULT_CONFIG: dict[str, Any] = {
    # None (off), "aws" (AWS_THROTTLE) or a dict shaped like AWS_THROTTLE.
    "throttle": None,
    # Added before each call; per-action values replace the global one; plus a uniform random
    # extra of 0..latency_jitter_ms.
    "latency_ms": 0,
    "latency_ms_by_action": {},
    "latency_jitter_ms": 0,
    # Each fault: {"actions": ["AssociateTrunkInterface"] or ["*"], "rate": 0.1 (fraction of
    # calls) or "count": 2 (the next n calls), "code": "InternalError", "status": 500,
    # "when": "before" (the call does not happen) or "after" (it happens, the answer is lost)}.
    "faults": [],
    "seed": None,
    # False: InterfaceType=trunk fails as in an account that is not allow-listed.
    "trunking_enabled": True,
}

NON_MUTATING_PREFIXES = ("Describe", "Get", "List")


def is_mutating(action: str) -> bool:
    return not action.startswith(NON_MUTATING_PREFIXES)


def ec2_error_body(code: str, message: str) -> bytes:
    """An EC2 query-protocol error document, which botocore turns into ``ClientError``."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error>"
        f"</Errors><RequestID>{uuid.uuid4()}</RequestID></Response>"
    ).encode()


@dataclass
class TokenBucket:
    """EC2's bucket: starts full at ``burst``, gains ``refill_per_second`` tokens continuously."""

    burst: float
    refill_per_second: float
    tokens: float = -1.0
    updated: float = 0.0

    def take(self, now: float) -> bool:
        if self.tokens < 0:
            self.tokens, self.updated = self.burst, now
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.refill_per_second)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


def bucket_parameters(throttle: dict[str, Any], action: str) -> dict[str, float] | None:
    if action in throttle.get("actions", {}):
        return throttle["actions"][action]
    return throttle.get("mutating" if is_mutating(action) else "describe")


def check_configuration(changes: dict[str, Any]) -> None:
    """Refuse what would only fail later, inside a request (the control route answers 400)."""
    unknown = set(changes) - set(DEFAULT_CONFIG)
    if unknown:
        raise ValueError(f"unknown configuration keys: {sorted(unknown)}")
    for key in ("latency_ms", "latency_jitter_ms"):
        if key in changes and not isinstance(changes[key], int | float):
            raise ValueError(f"{key} must be a number of milliseconds")
    by_action = changes.get("latency_ms_by_action", {})
    if not isinstance(by_action, dict) or not all(
        isinstance(v, int | float) for v in by_action.values()
    ):
        raise ValueError("latency_ms_by_action must map actions to milliseconds")
    throttle = changes.get("throttle")
    if throttle not in (None, "aws"):
        if not isinstance(throttle, dict) or set(throttle) - {"actions", "mutating", "describe"}:
            raise ValueError('throttle must be null, "aws" or {"actions", "mutating", "describe"}')
        buckets = [throttle.get("mutating"), throttle.get("describe")]
        buckets += list(throttle.get("actions", {}).values())
        for bucket in filter(None, buckets):
            if set(bucket) != {"burst", "refill_per_second"}:
                raise ValueError('a bucket is {"burst": n, "refill_per_second": r}')
    faults = changes.get("faults", [])
    if not isinstance(faults, list) or not all(isinstance(f, dict) for f in faults):
        raise ValueError("faults must be a list of objects")
    allowed = {"actions", "rate", "count", "code", "status", "when", "message"}
    for fault in faults:
        if set(fault) - allowed or fault.get("when", "before") not in ("before", "after"):
            raise ValueError(f"a fault has the keys {sorted(allowed)}, when before|after")


class EC2Limits:
    """The middleware; ``config`` starts from :data:`DEFAULT_CONFIG` updated with the argument."""

    def __init__(
        self,
        app: Callable,
        config: dict[str, Any] | None = None,
        reset_state: Callable[[], None] | None = None,
    ) -> None:
        self.app = app
        self.reset_state = reset_state
        self._lock = threading.Lock()
        self._config = copy.deepcopy(DEFAULT_CONFIG)
        self._buckets: dict[str, TokenBucket] = {}
        self._calls: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self._injected: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self._random = random.Random()
        self.configure(config or {})

    # ---- configuration and counters (Python API; the HTTP surface calls these) ---------------

    def configure(self, changes: dict[str, Any]) -> dict[str, Any]:
        """Replace the given top-level keys of the configuration; return the whole of it."""
        check_configuration(changes)
        with self._lock:
            if changes.get("throttle") == "aws":
                changes = {**changes, "throttle": copy.deepcopy(AWS_THROTTLE)}
            if "throttle" in changes:
                self._buckets.clear()
            if "seed" in changes:
                self._random.seed(changes["seed"])
            self._config.update(copy.deepcopy(changes))
            trunking.TRUNKING["enabled"] = bool(self._config["trunking_enabled"])
            return copy.deepcopy(self._config)

    @property
    def config(self) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._config)

    def counters(self) -> dict[str, Any]:
        with self._lock:
            return {
                "calls": {a: dict(o) for a, o in self._calls.items()},
                "injected": {a: dict(o) for a, o in self._injected.items()},
            }

    def reset_counters(self) -> None:
        with self._lock:
            self._calls.clear()
            self._injected.clear()

    def reset(self) -> None:
        if self.reset_state is not None:
            self.reset_state()
        with self._lock:
            self._buckets.clear()
        self.reset_counters()

    # ---- WSGI ---------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith(CONTROL_PREFIX):
            return self._control(environ, start_response, path[len(CONTROL_PREFIX) :])
        action = self._action_of(environ)
        bypass = environ.get("HTTP_" + BYPASS_HEADER.upper().replace("-", "_"), "") not in ("", "0")
        if action is None or bypass:
            return self.app(environ, start_response)
        return self._limited_call(action, environ, start_response)

    def _limited_call(
        self, action: str, environ: dict[str, Any], start_response: Callable
    ) -> Iterable[bytes]:
        config = self.config
        latency_ms = config["latency_ms_by_action"].get(action, config["latency_ms"])
        if config["latency_jitter_ms"]:
            with self._lock:
                latency_ms += self._random.uniform(0, config["latency_jitter_ms"])
        if latency_ms:
            time.sleep(latency_ms / 1000.0)
        if not self._take_token(action, config):
            return self._answer_error(
                start_response,
                action,
                503,
                "RequestLimitExceeded",
                "Request limit exceeded.",
                injected=False,
            )
        fault = self._pick_fault(action, "before")
        if fault is not None:
            return self._answer_fault(start_response, action, fault)
        status, headers, body = self._call_app(environ)
        fault = self._pick_fault(action, "after")
        if fault is not None:
            return self._answer_fault(start_response, action, fault)
        self._count(action, self._outcome(status, body))
        start_response(status, headers)
        return [body]

    def _call_app(self, environ: dict[str, Any]) -> tuple[str, list, bytes]:
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list, exc_info: Any = None) -> Callable:
            captured["status"], captured["headers"] = status, headers
            return lambda data: None

        chunks = self.app(environ, capture)
        try:
            body = b"".join(chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        return captured["status"], captured["headers"], body

    @staticmethod
    def _outcome(status: str, body: bytes) -> str:
        if int(status.split()[0]) < 400:
            return "ok"
        match = re.search(rb"<Code>([^<]+)</Code>", body)
        return match.group(1).decode() if match else f"HTTP{status.split()[0]}"

    def _take_token(self, action: str, config: dict[str, Any]) -> bool:
        throttle = config["throttle"]
        if not throttle:
            return True
        params = bucket_parameters(throttle, action)
        if params is None:
            return True
        with self._lock:
            bucket = self._buckets.get(action)
            if bucket is None:
                bucket = self._buckets[action] = TokenBucket(
                    float(params["burst"]), float(params["refill_per_second"])
                )
            return bucket.take(time.monotonic())

    def _pick_fault(self, action: str, when: str) -> dict | None:
        with self._lock:
            for index, fault in enumerate(self._config["faults"]):
                actions = fault.get("actions", ["*"])
                if fault.get("when", "before") != when or (
                    "*" not in actions and action not in actions
                ):
                    continue
                if "count" in fault and fault["count"] is not None:
                    if fault["count"] <= 0:
                        continue
                    self._config["faults"][index]["count"] -= 1
                    return fault
                if self._random.random() < float(fault.get("rate", 0.0)):
                    return fault
        return None

    def _answer_fault(self, start_response: Callable, action: str, fault: dict) -> Iterable[bytes]:
        code = fault.get("code", "InternalError")
        status = int(fault.get("status", 503 if code == "RequestLimitExceeded" else 500))
        message = fault.get("message", f"Injected fault ({code}) from the EC2 stand-in.")
        return self._answer_error(start_response, action, status, code, message, injected=True)

    def _answer_error(
        self,
        start_response: Callable,
        action: str,
        status: int,
        code: str,
        message: str,
        injected: bool,
    ) -> Iterable[bytes]:
        self._count(action, code, injected=injected)
        body = ec2_error_body(code, message)
        reason = {500: "Internal Server Error", 503: "Service Unavailable"}.get(status, "Error")
        start_response(
            f"{status} {reason}", [("Content-Type", "text/xml"), ("Content-Length", str(len(body)))]
        )
        return [body]

    def _count(self, action: str, outcome: str, injected: bool = False) -> None:
        with self._lock:
            self._calls[action][outcome] += 1
            if injected:
                self._injected[action][outcome] += 1

    @staticmethod
    def _action_of(environ: dict[str, Any]) -> str | None:
        """Read ``Action`` from the query string or the form body (which is put back)."""
        query = parse_qs(environ.get("QUERY_STRING", ""))
        if "Action" in query:
            return query["Action"][0]
        if environ.get("REQUEST_METHOD") != "POST":
            return None
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        form = parse_qs(body.decode("utf-8", "replace"))
        return form["Action"][0] if "Action" in form else None

    # ---- control surface ----------------------------------------------------------------------

    def _control(
        self, environ: dict[str, Any], start_response: Callable, route: str
    ) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        try:
            if route == "config" and method == "GET":
                return _json(start_response, 200, self.config)
            if route == "config" and method == "POST":
                return _json(start_response, 200, self.configure(_read_json(environ)))
            if route == "counters" and method == "GET":
                return _json(start_response, 200, self.counters())
            if route == "counters" and method == "DELETE":
                self.reset_counters()
                return _json(start_response, 200, self.counters())
            if route == "reset" and method == "POST":
                self.reset()
                return _json(start_response, 200, {"status": "ok"})
        except ValueError as exc:
            return _json(start_response, 400, {"error": str(exc)})
        return _json(start_response, 404, {"error": f"no control route {method} {route}"})


def _read_json(environ: dict[str, Any]) -> dict[str, Any]:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    data = json.loads(environ["wsgi.input"].read(length) or b"{}")
    if not isinstance(data, dict):
        raise ValueError("the configuration must be a JSON object")
    return data


def _json(start_response: Callable, status: int, document: Any) -> Iterable[bytes]:
    body = json.dumps(document).encode()
    reason = {200: "OK", 400: "Bad Request", 404: "Not Found"}[status]
    start_response(
        f"{status} {reason}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
    )
    return [body]
