"""The EC2 stand-in server: moto's threaded server, our trunking extension, our limits middleware.

Usage::

    with EC2Standin(throttle="aws", latency_ms=150) as ec2:
        client = ec2.client()                      # boto3 EC2 client aimed at the stand-in
        ec2.control.configure(faults=[...])        # the same control surface other processes use
        ec2.control.counters()

It listens on 127.0.0.1 only; port 0 picks a free port (``endpoint_url`` tells which).
"""

from __future__ import annotations

import os
import threading
from typing import Any

from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

from standins.ec2 import trunking
from standins.ec2.control import EC2StandinControl, ec2_client
from standins.ec2.limits import EC2Limits

LOOPBACK = "127.0.0.1"

# Never let botocore reach for real credentials or the instance metadata service.
SAFE_AWS_ENVIRONMENT = {
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-west-2",
}


def use_safe_aws_environment() -> None:
    """Set dummy credentials and disable IMDS for this process, unless already set."""
    for name, value in SAFE_AWS_ENVIRONMENT.items():
        os.environ.setdefault(name, value)


def reset_moto_state() -> None:
    """Forget every moto backend's state (what ``POST /moto-api/reset`` does)."""
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()


class QuietRequestHandler(MotoRequestHandler):
    """moto's request handler without a log line per request (``verbose=True`` restores it)."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


class SerializedApp:
    """One request at a time inside moto: its backends iterate dicts that other request
    threads change (an ENI describe racing a create answered an HTML 500). Latency and
    throttling sit outside, in :class:`EC2Limits`, so simulated slowness still overlaps."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ: dict, start_response: Any):
        with self.lock:
            return list(self.app(environ, start_response))


class EC2Standin(ThreadedMotoServer):
    """moto's ``ThreadedMotoServer`` whose WSGI app is wrapped in :class:`EC2Limits`.

    Keyword arguments are the initial limits configuration (see ``limits.DEFAULT_CONFIG``):
    ``throttle``, ``latency_ms``, ``latency_ms_by_action``, ``faults``, ``seed``,
    ``trunking_enabled``.
    """

    def __init__(self, port: int = 0, verbose: bool = False, **config: Any) -> None:
        super().__init__(ip_address=LOOPBACK, port=port, verbose=False)
        self._request_handler = MotoRequestHandler if verbose else QuietRequestHandler
        use_safe_aws_environment()
        trunking.install()
        self.limits = EC2Limits(
            SerializedApp(DomainDispatcherApplication(create_backend_app)),
            config,
            reset_state=reset_moto_state,
        )

    def _server_entry(self) -> None:
        self._server = make_server(
            self._ip_address,
            self._port,
            self.limits,
            True,
            request_handler=self._request_handler,
        )
        self._server_ready_event.set()
        self._server.serve_forever()

    @property
    def endpoint_url(self) -> str:
        host, port = self.get_host_and_port()
        return f"http://{host}:{port}"

    def environment(self) -> dict[str, str]:
        """Environment for another process (a Celery worker, the demo) whose plain
        ``boto3.client("ec2")`` should reach this stand-in: botocore reads
        ``AWS_ENDPOINT_URL_EC2``; credentials are dummies and IMDS is off."""
        return {**SAFE_AWS_ENVIRONMENT, "AWS_ENDPOINT_URL_EC2": self.endpoint_url}

    @property
    def control(self) -> EC2StandinControl:
        return EC2StandinControl(self.endpoint_url)

    def client(self, region_name: str = "us-west-2", **kwargs: Any) -> Any:
        return ec2_client(self.endpoint_url, region_name=region_name, **kwargs)

    def seeder(self, region_name: str = "us-west-2") -> Any:
        """A client that bypasses throttling, latency, faults and counters (for seeding)."""
        return self.client(region_name, bypass_limits=True)

    def __enter__(self) -> EC2Standin:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
