"""kmock's KubernetesEmulator served from a background thread, for synchronous tests.

kmock does not assign ``metadata.uid`` and ignores selectors; the helpers here put the uid and
namespace into the bodies they create, as the API server would.
"""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from pathlib import Path

import kmock
from kmock._internal.apps import Server
from kubernetes import client


class EmulatedKubernetes:
    def __init__(self) -> None:
        self.url = ""
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="kmock", daemon=True)
        self._error: BaseException | None = None

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._serve())
        except BaseException as exc:  # surfaced by start()
            self._error = exc
            self._ready.set()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        async with kmock.KubernetesEmulator() as emulator, Server(emulator) as server:
            self.emulator = emulator
            self.url = str(server.url).rstrip("/")
            self._ready.set()
            await self._stop.wait()

    def start(self) -> EmulatedKubernetes:
        self._thread.start()
        self._ready.wait(10)
        if self._error or not self.url:
            raise RuntimeError(f"kmock did not start: {self._error!r}")
        return self

    def stop(self) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def api_client(self) -> client.ApiClient:
        configuration = client.Configuration()
        configuration.host = self.url
        return client.ApiClient(configuration)

    def write_kubeconfig(self, path: Path) -> Path:
        path.write_text(
            json.dumps(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [{"name": "emu", "cluster": {"server": self.url}}],
                    "users": [{"name": "emu", "user": {}}],
                    "contexts": [{"name": "emu", "context": {"cluster": "emu", "user": "emu"}}],
                    "current-context": "emu",
                }
            )
        )
        return path

    def create_pod(
        self,
        namespace: str,
        name: str,
        node: str,
        annotation: str | None = None,
        uid: str | None = None,
        requests_pod_eni: bool = True,
    ) -> dict:
        resources = {"limits": {"vpc.amazonaws.com/pod-eni": "1"}} if requests_pod_eni else {}
        body = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": name,
                "namespace": namespace,
                "uid": uid or str(uuid.uuid4()),
                "annotations": {},
            },
            "spec": {
                "nodeName": node,
                "containers": [{"name": "app", "image": "x", "resources": resources}],
            },
        }
        if annotation is not None:
            body["metadata"]["annotations"]["vpc.amazonaws.com/pod-eni"] = annotation
        client.CoreV1Api(self.api_client()).create_namespaced_pod(namespace, body)
        return body

    def annotate_pod(self, namespace: str, name: str, annotation: str) -> None:
        client.CoreV1Api(self.api_client()).patch_namespaced_pod(
            name,
            namespace,
            {"metadata": {"annotations": {"vpc.amazonaws.com/pod-eni": annotation}}},
        )

    def delete_pod(self, namespace: str, name: str) -> None:
        client.CoreV1Api(self.api_client()).delete_namespaced_pod(name, namespace)
