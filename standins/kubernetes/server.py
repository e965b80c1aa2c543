"""Running the Kubernetes stand-in: an event-loop thread serving :class:`KubeApiEmulator`.

Usage::

    with KubeStandin() as kube:
        api = kubernetes.client.CoreV1Api(kube.api_client())
        api.create_namespaced_pod("default", {...})

kmock is asyncio; the stand-in runs it on its own thread, so synchronous code (tests, the
official client, Celery workers in other processes) just talks HTTP to ``kube.url``.
"""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import kmock
import kubernetes.client

from standins.kubernetes.emulator import KubeApiEmulator

LOOPBACK = "127.0.0.1"
T = TypeVar("T")


def api_client(url: str) -> kubernetes.client.ApiClient:
    """An official-client ``ApiClient`` for the stand-in at ``url`` (plain HTTP, no auth)."""
    configuration = kubernetes.client.Configuration()
    configuration.host = url
    configuration.verify_ssl = False
    return kubernetes.client.ApiClient(configuration)


def control_request(url: str, method: str, route: str, document: Any = None) -> Any:
    """Call the stand-in's ``/_standin/`` control surface (see :mod:`.failures`)."""
    data = None if document is None else json.dumps(document).encode()
    request = urllib.request.Request(
        f"{url}/_standin/{route}",
        data=data,
        method=method,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def write_kubeconfig(url: str, path: str | Path, context: str = "sgpadmin-standin") -> Path:
    """Write a kubeconfig (JSON, which is YAML) whose current context is the stand-in at
    ``url`` without credentials, for code that loads its cluster from a kubeconfig."""
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [{"name": context, "cluster": {"server": url}}],
        "users": [{"name": context, "user": {}}],
        "contexts": [
            {
                "name": context,
                "context": {"cluster": context, "user": context, "namespace": "default"},
            }
        ],
        "current-context": context,
    }
    path = Path(path)
    path.write_text(json.dumps(document, indent=2) + "\n")
    return path


class KubeStandin:
    """Serves one :class:`KubeApiEmulator` on ``127.0.0.1:port`` (0 picks a free port)."""

    def __init__(self, port: int = 0, **emulator_options: Any) -> None:
        self.port = port
        self._emulator_options = emulator_options
        self.emulator: KubeApiEmulator | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._failure: BaseException | None = None

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def start(self, timeout: float = 10.0) -> KubeStandin:
        self._thread = threading.Thread(target=self._run, name="kube-standin", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError("the Kubernetes stand-in did not start in time")
        if self._failure is not None:
            raise RuntimeError("the Kubernetes stand-in failed to start") from self._failure
        return self

    def stop(self, timeout: float = 10.0) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout)

    def api_client(self) -> kubernetes.client.ApiClient:
        return api_client(self.url)

    def write_kubeconfig(self, path: str | Path) -> Path:
        return write_kubeconfig(self.url, path)

    def call(self, function: Callable[[KubeApiEmulator], T], timeout: float = 10.0) -> T:
        """Run ``function(emulator)`` on the emulator's loop (safe access to its state)."""
        assert self._loop is not None and self.emulator is not None, "start() first"

        async def in_loop() -> T:
            return function(self.emulator)

        future = asyncio.run_coroutine_threadsafe(in_loop(), self._loop)
        return future.result(timeout)

    def inject_failure(
        self, method: str, path: str, status: int = 500, count: int = 1, message: str | None = None
    ) -> None:
        """Fail the next ``count`` requests ``method`` whose path matches ``path`` (a regular
        expression) with ``status``; over HTTP, as another process would."""
        failure: dict[str, Any] = {"method": method, "path": path, "status": status, "count": count}
        if message:
            failure["message"] = message
        control_request(self.url, "POST", "failures", failure)

    def clear_failures(self) -> None:
        control_request(self.url, "DELETE", "failures")

    def reset(self) -> None:
        """Forget every object; see :meth:`KubeApiEmulator.reset`."""
        self.call(lambda emulator: emulator.reset())

    def __enter__(self) -> KubeStandin:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # reported to start(); the thread ends
            self._failure = exc
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self.emulator = KubeApiEmulator(**self._emulator_options)
        async with (
            self.emulator,
            kmock.Server(self.emulator, host=LOOPBACK, port=self.port or None) as server,
        ):
            self.port = server.port
            self._ready.set()
            await self._stop.wait()
            await self.emulator.close_watches()
