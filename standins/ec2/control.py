"""Talking to a running EC2 stand-in from any process: boto3 clients and the control surface."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import boto3
from botocore.config import Config

from standins.ec2.limits import BYPASS_HEADER, CONTROL_PREFIX

DUMMY_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def ec2_client(
    endpoint_url: str,
    region_name: str = "us-west-2",
    *,
    bypass_limits: bool = False,
    config: Config | None = None,
) -> Any:
    """A boto3 EC2 client for the stand-in, with dummy credentials.

    ``bypass_limits`` marks every request with ``X-Standin-Bypass``: no throttling, latency,
    faults or counting. The seeding helpers use such a client.
    """
    client = boto3.client(
        "ec2",
        endpoint_url=endpoint_url,
        region_name=region_name,
        config=config,
        **DUMMY_CREDENTIALS,
    )
    if bypass_limits:

        def mark(request: Any, **_: Any) -> None:
            request.headers[BYPASS_HEADER] = "1"

        client.meta.events.register("before-send.ec2", mark)
    return client


class EC2StandinControl:
    """The ``/_standin/`` control surface of a stand-in at ``endpoint_url``."""

    def __init__(self, endpoint_url: str, timeout: float = 10.0) -> None:
        self.endpoint_url = endpoint_url.rstrip("/")
        self.timeout = timeout

    def _call(self, method: str, route: str, document: Any = None) -> Any:
        data = None if document is None else json.dumps(document).encode()
        request = urllib.request.Request(
            f"{self.endpoint_url}{CONTROL_PREFIX}{route}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            return json.loads(response.read())

    def config(self) -> dict[str, Any]:
        return self._call("GET", "config")

    def configure(self, **changes: Any) -> dict[str, Any]:
        """Replace the given configuration keys, e.g. ``configure(throttle="aws")``."""
        return self._call("POST", "config", changes)

    def counters(self) -> dict[str, Any]:
        """``{"calls": {action: {outcome: n}}, "injected": {action: {code: n}}}``."""
        return self._call("GET", "counters")

    def calls(self, action: str, outcome: str | None = None) -> int:
        """How many calls of ``action`` were answered (with ``outcome``, if given)."""
        by_outcome = self.counters()["calls"].get(action, {})
        return sum(n for o, n in by_outcome.items() if outcome is None or o == outcome)

    def reset_counters(self) -> None:
        self._call("DELETE", "counters")

    def reset(self) -> None:
        """Forget all EC2 state, counters and buckets."""
        self._call("POST", "reset", {})
