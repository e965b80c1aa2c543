"""A worker's own Prometheus endpoint (EC2 calls by action and outcome, reconcile latency).

Counters live in the processes that do the work: the worker process itself with the
threads pool (the default), its children with ``--pool=prefork``. With
``PROMETHEUS_MULTIPROC_DIR`` set (an empty directory per worker pod), every process writes
there and this endpoint, in the worker's main process, adds them up. Off unless
``SGPADMIN_WORKER_METRICS_PORT`` is set.
"""

from __future__ import annotations

import os

from prometheus_client import REGISTRY, CollectorRegistry, multiprocess, start_http_server


def registry() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        combined = CollectorRegistry()
        multiprocess.MultiProcessCollector(combined)
        return combined
    return REGISTRY


def serve_metrics_if_asked() -> int | None:
    """Start the endpoint on ``SGPADMIN_WORKER_METRICS_PORT``; returns the port, or None."""
    port = os.environ.get("SGPADMIN_WORKER_METRICS_PORT")
    if not port:
        return None
    address = os.environ.get("SGPADMIN_WORKER_METRICS_ADDRESS", "0.0.0.0")
    server, _thread = start_http_server(int(port), addr=address, registry=registry())
    return server.server_port
