"""The cluster port: a thin adapter over the official ``kubernetes`` client.

Answers are plain dicts (JSON as the API server sends it, ``_preload_content=False``), which
keeps the controller cheap and its data plain. Production uses a kubeconfig or the in-cluster
service account; ``Cluster.kube_api_url`` points at a local stand-in instead.
"""

from __future__ import annotations

import datetime
import json
import secrets
import threading
from collections.abc import Callable, Iterator
from typing import Any

import kubernetes.client
import kubernetes.config
import urllib3.exceptions
from kubernetes.client.exceptions import ApiException
from kubernetes.watch.watch import iter_resp_lines

from apps.controller.core.constants import EVENT_SOURCE
from apps.controller.core.model import Event

MERGE_PATCH = "application/merge-patch+json"
VPC_GROUP = "vpcresources.k8s.aws"
# kind -> (group, version, plural) of the custom resources we watch
CUSTOM_KINDS = {
    "SecurityGroupPolicy": (VPC_GROUP, "v1beta1", "securitygrouppolicies"),
    "CNINode": (VPC_GROUP, "v1alpha1", "cninodes"),
}
CORE_LISTS = {
    "Node": "list_node",
    "Pod": "list_pod_for_all_namespaces",
    "ServiceAccount": "list_service_account_for_all_namespaces",
}


# Every call but a watch: (connect, read) seconds. Without it a half-open connection would hold
# a worker thread (and the pod's lock) for as long as the kernel keeps the socket.
REQUEST_TIMEOUT = (5.0, 30.0)


def is_retryable(exc: BaseException) -> bool:
    """API server trouble that says nothing about the request: throttling (429, API priority
    and fairness), 5xx, a connection that failed, broke off or timed out. A request that
    ended so may or may not have been applied."""
    if isinstance(exc, ApiException):
        return exc.status == 429 or (exc.status or 0) >= 500 or not exc.status
    return isinstance(exc, urllib3.exceptions.HTTPError | ConnectionError | TimeoutError)


class PodChanged(Exception):
    """The pod is gone or was re-created under the same name (its UID differs)."""


class WatchExpired(Exception):
    """The watch's resource version is too old (410 Gone): list again."""


def _json(response: Any) -> Any:
    """The body as JSON; the connection goes back to the pool (keep-alive)."""
    try:
        return json.loads(response.data)
    finally:
        response.release_conn()


def api_client_for(cluster: Any) -> kubernetes.client.ApiClient:
    """An ``ApiClient`` for a Cluster row: stand-in URL, kubeconfig, or in-cluster."""
    configuration = kubernetes.client.Configuration()
    if cluster.kube_api_url:
        configuration.host = cluster.kube_api_url
        configuration.verify_ssl = cluster.kube_api_url.startswith("https")
    elif cluster.in_cluster:
        kubernetes.config.load_incluster_config(client_configuration=configuration)
    else:
        kubernetes.config.load_kube_config(
            config_file=cluster.kubeconfig_path or None, context=cluster.kube_context or None,
            client_configuration=configuration)
    configuration.connection_pool_maxsize = 32
    return kubernetes.client.ApiClient(configuration)


_clients: dict[tuple, kubernetes.client.ApiClient] = {}
_clients_lock = threading.Lock()


class ClusterPort:
    def __init__(self, cluster: Any) -> None:
        key = (cluster.pk, cluster.kube_api_url, cluster.kubeconfig_path, cluster.kube_context,
               cluster.in_cluster)
        with _clients_lock:
            if key not in _clients:
                _clients[key] = api_client_for(cluster)
            self.api_client = _clients[key]
        self.core = kubernetes.client.CoreV1Api(self.api_client)
        self.custom = kubernetes.client.CustomObjectsApi(self.api_client)

    # -- pods ---------------------------------------------------------------------------------
    def get_pod(self, namespace: str, name: str) -> dict | None:
        try:
            return _json(self.core.read_namespaced_pod(
                name, namespace, _preload_content=False, _request_timeout=REQUEST_TIMEOUT))
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise

    def annotate_pod(self, namespace: str, name: str, uid: str, resource_version: str,
                     key: str, value: str) -> dict:
        """Merge-patch one annotation, only onto the pod with this UID at this version.

        The UID and resource version in the patch are preconditions on a real API server
        (immutable field; optimistic concurrency): a re-created pod or a concurrent change
        fails the patch (422 / 409) instead of being written over.
        """
        body = {"metadata": {"uid": uid, "resourceVersion": resource_version,
                             "annotations": {key: value}}}
        return _json(self.core.patch_namespaced_pod(
            name, namespace, body, _content_type=MERGE_PATCH, _preload_content=False,
            _request_timeout=REQUEST_TIMEOUT))

    # -- nodes --------------------------------------------------------------------------------
    def get_node(self, name: str) -> dict | None:
        try:
            return _json(self.core.read_node(
                name, _preload_content=False, _request_timeout=REQUEST_TIMEOUT))
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise

    def patch_node_status(self, name: str, patch: dict) -> dict:
        return _json(self.core.patch_node_status(
            name, patch, _content_type=MERGE_PATCH, _preload_content=False,
            _request_timeout=REQUEST_TIMEOUT))

    def get_cninode(self, name: str) -> dict | None:
        group, version, plural = CUSTOM_KINDS["CNINode"]
        try:
            return _json(self.custom.get_cluster_custom_object(
                group, version, plural, name, _preload_content=False,
                _request_timeout=REQUEST_TIMEOUT))
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise

    # -- events -------------------------------------------------------------------------------
    def emit_event(self, kind: str, obj: dict, event: Event) -> None:
        """Record an event on a pod or node; node events carry the name as UID (upstream)."""
        meta = obj.get("metadata", {})
        namespace = meta.get("namespace") or "default"
        now = datetime.datetime.now(tz=datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        body: Any = {  # a plain dict: the client sends it as is
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": f"{meta.get('name')}.{secrets.token_hex(8)}",
                         "namespace": namespace},
            "involvedObject": {
                "apiVersion": "v1", "kind": kind, "name": meta.get("name"),
                "namespace": meta.get("namespace", ""),
                "uid": meta.get("name") if kind == "Node" else meta.get("uid", ""),
            },
            "reason": event.reason, "message": event.message, "type": str(event.type),
            "source": {"component": EVENT_SOURCE}, "reportingComponent": EVENT_SOURCE,
            "firstTimestamp": now, "lastTimestamp": now, "count": 1,
        }
        _json(self.core.create_namespaced_event(namespace, body, _preload_content=False,
                                                _request_timeout=REQUEST_TIMEOUT))

    def events_for(self, namespace: str, name: str) -> list[dict]:
        items = _json(self.core.list_namespaced_event(
            namespace, _preload_content=False, _request_timeout=REQUEST_TIMEOUT))["items"]
        return [e for e in items if e.get("involvedObject", {}).get("name") == name]

    # -- list and watch -----------------------------------------------------------------------
    def _list_function(self, kind: str) -> Callable[..., Any]:
        if kind in CORE_LISTS:
            return getattr(self.core, CORE_LISTS[kind])
        group, version, plural = CUSTOM_KINDS[kind]
        return lambda **kw: self.custom.list_cluster_custom_object(group, version, plural, **kw)

    def list(self, kind: str, page_size: int = 500,
             field_selector: str = "") -> tuple[list[dict], str]:
        """All objects of ``kind`` (paged; only those ``field_selector`` selects, if given)
        and the list's resource version."""
        items: list[dict] = []
        token = None
        while True:
            kwargs: dict[str, Any] = {"limit": page_size, "_preload_content": False,
                                      "_request_timeout": REQUEST_TIMEOUT}
            if field_selector:
                kwargs["field_selector"] = field_selector
            if token:
                kwargs["_continue"] = token
            page = _json(self._list_function(kind)(**kwargs))
            items += page.get("items", [])
            token = page.get("metadata", {}).get("continue")
            if not token:
                return items, page.get("metadata", {}).get("resourceVersion", "")

    def pods_on_node(self, node_name: str) -> list[dict]:
        """The pods bound to one node, selected by the API server (``spec.nodeName``): a
        per-node pass reads its node's pods, not the whole cluster's."""
        pods, _ = self.list("Pod", field_selector=f"spec.nodeName={node_name}")
        return pods

    def watch(self, kind: str, resource_version: str,
              timeout_seconds: int = 300) -> Iterator[tuple[str, dict]]:
        """(type, object) events after ``resource_version``; WatchExpired on 410 Gone."""
        response = self._list_function(kind)(
            watch=True, resource_version=resource_version, timeout_seconds=timeout_seconds,
            allow_watch_bookmarks=True, _preload_content=False,
            _request_timeout=timeout_seconds + 30)
        try:
            for line in iter_resp_lines(response):
                if not line:
                    continue
                event = json.loads(line)
                obj = event.get("object") or {}
                if event.get("type") == "ERROR":
                    if obj.get("code") == 410:
                        raise WatchExpired(obj.get("message", "410 Gone"))
                    raise ApiException(status=obj.get("code", 500), reason=obj.get("message"))
                yield event["type"], obj
        finally:
            response.release_conn()
