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
    another UID or without the annotation, is read from the API instead. An ADD that waits for
    its annotation waits on this cache's changes (:meth:`wait_for_change`) while the watch is
    live, rather than asking the API server five times a second.
    """

    def __init__(
        self, api_client: client.ApiClient, node_name: str, watch_seconds: int = 300
    ) -> None:
        self.core = client.CoreV1Api(api_client)
        self.node_name = node_name
        self.watch_seconds = watch_seconds
        self.pods: dict[tuple[str, str], dict] = {}
        self.synced = threading.Event()
        self.live = threading.Event()  # listed and watching; cleared while relisting
        self.version = 0  # counts updates
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pod-cache", daemon=True)

    def start(self) -> PodCache:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def get(self, namespace: str, name: str) -> dict | None:
        return self.pods.get((namespace, name))

    def wait_for_change(self, since: int, timeout: float) -> int:
        """Block until the cache changes after update ``since`` or ``timeout`` passes; the
        current update count."""
        with self._changed:
            self._changed.wait_for(lambda: self.version != since, timeout)
            return self.version

    def _updated(self) -> None:
        with self._changed:
            self.version += 1
            self._changed.notify_all()

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
                self.live.set()
                self._updated()
                version = (body.get("metadata") or {}).get("resourceVersion")
                stream = watch.Watch().stream(
                    self.core.list_pod_for_all_namespaces,
                    field_selector=selector,
                    resource_version=version,
                    timeout_seconds=self.watch_seconds,
                    # a half-open connection must not leave the cache stale for good
                    _request_timeout=self.watch_seconds + 30,
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
                    self._updated()
            except Exception as exc:  # relist after any failure
                self.live.clear()
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

    def _cache_live(self) -> bool:
        return self.cache is not None and self.cache.live.is_set()

    def wait_for_branch(
        self,
        namespace: str,
        name: str,
        uid: str,
        timeout: float,
        interval: float = 0.2,
        interval_with_cache: float = 2.0,
    ) -> BranchENI:
        """The pod's branch ENI, waiting up to ``timeout`` seconds for the controller to write the
        annotation. Raises CniError: 11 when it does not appear in time (kubelet retries), 999
        for a pod that is not a branch pod, has another UID, or carries a broken annotation.

        The pod is read from the API at once, then every ``interval`` seconds; while the pod
        cache's watch is live, every ``interval_with_cache`` seconds only (a safety net), the
        wait in between ending as soon as the cache shows the annotation."""
        cached = self._from_cache(namespace, name, uid)
        if cached is not None:
            return cached
        deadline = self.clock() + timeout
        last_problem = "pod not found"
        seen = self.cache.version if self.cache is not None else 0
        while True:
            branch, last_problem = self._read(namespace, name, uid, last_problem)
            if branch is not None:
                return branch
            next_read = self.clock() + (interval_with_cache if self._cache_live() else interval)
            while True:
                remaining = deadline - self.clock()
                if remaining <= 0:
                    raise errors.CniError(
                        errors.TRY_AGAIN_LATER,
                        f"timed out after {timeout:g}s waiting for the branch ENI of "
                        f"{namespace}/{name}",
                        last_problem,
                    )
                pause = min(remaining, next_read - self.clock())
                if pause <= 0:
                    break
                if not self._cache_live():
                    self.sleep(pause)
                    continue
                assert self.cache is not None
                seen = self.cache.wait_for_change(seen, pause)
                cached = self._from_cache(namespace, name, uid)
                if cached is not None:
                    return cached

    def _read(
        self, namespace: str, name: str, uid: str, last_problem: str
    ) -> tuple[BranchENI | None, str]:
        """One GET: the branch ENI if annotated, else None and what is still missing. Raises
        CniError for what waiting cannot fix."""
        try:
            pod = self.get_pod(namespace, name)
        except Exception as exc:  # API unreachable or erroring: retry until the deadline
            return None, f"Kubernetes API error: {exc}"
        if pod is None:
            return None, last_problem
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
                return parse_pod_eni(value), ""
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
        return None, f"annotation {POD_ENI_ANNOTATION} not written yet"
