"""Pod details from the Kubernetes API (official ``kubernetes`` client).

Only the daemon talks to the API server: it keeps one client (and its connection pool) for the
life of the node, so a CNI call costs one GET instead of a client start-up.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable

from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

from . import errors
from .annotation import POD_ENI_ANNOTATION, BranchENI, parse_pod_eni, requests_pod_eni
from .errors import AnnotationError


def load_api_client() -> client.ApiClient:
    """In-cluster configuration when running as a pod, otherwise the kubeconfig ($KUBECONFIG)."""
    try:
        config.load_incluster_config()
    except config.ConfigException:
        config.load_kube_config()
    return client.ApiClient()


log = logging.getLogger(__name__)


class PodCache:
    """The pods bound to this node, kept current by list + watch in a background thread.

    An ADD normally finds its pod here, annotation included (the controller writes it before
    kubelet creates the sandbox), and skips the GET; anything not found here, or found with
    another UID or without the annotation, is read from the API instead.
    """

    def __init__(
        self, api_client: client.ApiClient, node_name: str, watch_seconds: int = 300
    ) -> None:
        self.core = client.CoreV1Api(api_client)
        self.node_name = node_name
        self.watch_seconds = watch_seconds
        self.pods: dict[tuple[str, str], dict] = {}
        self.synced = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pod-cache", daemon=True)

    def start(self) -> PodCache:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def get(self, namespace: str, name: str) -> dict | None:
        return self.pods.get((namespace, name))

    def _mine(self, pod: dict) -> bool:
        return (pod.get("spec") or {}).get("nodeName") == self.node_name

    def _run(self) -> None:
        selector = f"spec.nodeName={self.node_name}"
        while not self._stop.is_set():
            try:
                response = self.core.list_pod_for_all_namespaces(
                    field_selector=selector, _preload_content=False, _request_timeout=10
                )
                body = json.loads(response.data)  # type: ignore[attr-defined]
                pods = {}
                for pod in body.get("items") or []:
                    if self._mine(pod):
                        meta = pod.get("metadata") or {}
                        pods[(str(meta.get("namespace")), str(meta.get("name")))] = pod
                self.pods = pods
                self.synced.set()
                version = (body.get("metadata") or {}).get("resourceVersion")
                stream = watch.Watch().stream(
                    self.core.list_pod_for_all_namespaces,
                    field_selector=selector,
                    resource_version=version,
                    timeout_seconds=self.watch_seconds,
                )
                for event in stream:
                    if self._stop.is_set():
                        return
                    pod = event.get("raw_object") or {}
                    meta = pod.get("metadata") or {}
                    key = (str(meta.get("namespace")), str(meta.get("name")))
                    if event.get("type") == "DELETED" or not self._mine(pod):
                        self.pods.pop(key, None)
                    else:
                        self.pods[key] = pod
            except Exception as exc:  # relist after any failure
                log.warning("pod watch failed, relisting: %s", exc)
                self._stop.wait(1.0)


class PodSource:
    def __init__(
        self,
        api_client: client.ApiClient,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        cache: PodCache | None = None,
    ) -> None:
        self.core = client.CoreV1Api(api_client)
        self.clock = clock
        self.sleep = sleep
        self.cache = cache

    def _from_cache(self, namespace: str, name: str, uid: str) -> BranchENI | None:
        if self.cache is None:
            return None
        pod = self.cache.get(namespace, name)
        if pod is None:
            return None
        meta = pod.get("metadata") or {}
        value = (meta.get("annotations") or {}).get(POD_ENI_ANNOTATION)
        if not value or (uid and meta.get("uid") != uid):
            return None
        try:
            return parse_pod_eni(value)
        except AnnotationError:
            return None  # the GET path reports it

    def get_pod(self, namespace: str, name: str) -> dict | None:
        """The pod as plain JSON, or None if it does not exist."""
        try:
            response = self.core.read_namespaced_pod(
                name, namespace, _preload_content=False, _request_timeout=5
            )
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise
        return json.loads(response.data)  # type: ignore[attr-defined]

    def pods_on_node(self, node_name: str) -> list[dict]:
        """Pods bound to ``node_name`` (filtered here too: not every API honours selectors)."""
        response = self.core.list_pod_for_all_namespaces(
            field_selector=f"spec.nodeName={node_name}", _preload_content=False, _request_timeout=10
        )
        body = json.loads(response.data)  # type: ignore[attr-defined]
        items = body.get("items") or []
        return [pod for pod in items if (pod.get("spec") or {}).get("nodeName") == node_name]

    def wait_for_branch(
        self, namespace: str, name: str, uid: str, timeout: float, interval: float = 0.2
    ) -> BranchENI:
        """The pod's branch ENI, waiting up to ``timeout`` seconds for the controller to write the
        annotation. Raises CniError: 11 when it does not appear in time (kubelet retries), 999
        for a pod that is not a branch pod, has another UID, or carries a broken annotation."""
        cached = self._from_cache(namespace, name, uid)
        if cached is not None:
            return cached
        deadline = self.clock() + timeout
        last_problem = "pod not found"
        while True:
            try:
                pod = self.get_pod(namespace, name)
            except Exception as exc:  # API unreachable or erroring: retry until the deadline
                pod, last_problem = None, f"Kubernetes API error: {exc}"
            if pod is not None:
                meta = pod.get("metadata") or {}
                if uid and meta.get("uid") and meta["uid"] != uid:
                    raise errors.CniError(
                        errors.OTHER,
                        f"pod {namespace}/{name} has UID {meta['uid']}, not {uid}",
                        "the sandbox belongs to an older incarnation of this pod",
                    )
                value = (meta.get("annotations") or {}).get(POD_ENI_ANNOTATION)
                if value:
                    try:
                        return parse_pod_eni(value)
                    except AnnotationError as exc:
                        raise errors.CniError(
                            errors.OTHER,
                            f"invalid {POD_ENI_ANNOTATION} annotation on {namespace}/{name}",
                            str(exc),
                        ) from exc
                if not requests_pod_eni(pod):
                    raise errors.CniError(
                        errors.OTHER,
                        f"pod {namespace}/{name} does not request {POD_ENI_ANNOTATION}",
                        "sgp-cni only plumbs branch-ENI (security groups for pods) pods",
                    )
                last_problem = f"annotation {POD_ENI_ANNOTATION} not written yet"
            remaining = deadline - self.clock()
            if remaining <= 0:
                raise errors.CniError(
                    errors.TRY_AGAIN_LATER,
                    f"timed out after {timeout:g}s waiting for the branch ENI of {namespace}/{name}",
                    last_problem,
                )
            self.sleep(min(interval, remaining))
