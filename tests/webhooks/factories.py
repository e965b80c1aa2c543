"""Builders for the webhook tests: database rows, and Pods and AdmissionReviews shaped
the way kube-apiserver sends them (a Go-serialised Pod: ``resources: {}``,
``creationTimestamp: null``, ``status: {}`` and the defaulted spec fields)."""

from __future__ import annotations

import copy
import itertools
import json
import uuid
from typing import Any

from apps.inventory.models import Cluster, ServiceAccount
from apps.policies.models import Policy

_counter = itertools.count(1)

SELECTOR = {
    "matchLabels": {"role": "db"},
    "matchExpressions": [{"key": "environment", "operator": "In", "values": ["qa", "production"]}],
}
POD_LABELS = {"role": "db", "environment": "qa", "app": "test_app"}
SA_LABELS = {"role": "db", "environment": "qa"}


def make_cluster(name: str | None = None) -> Cluster:
    n = next(_counter)
    return Cluster.objects.create(name=name or f"cluster-{n}", vpc_id=f"vpc-{n:08x}")


def make_policy(
    cluster: Cluster,
    namespace: str = "default",
    name: str | None = None,
    *,
    pod_selector: dict | None = None,
    sa_selector: dict | None = None,
    groups: list[str] | None = None,
) -> Policy:
    spec: dict[str, Any] = {
        "securityGroups": {"groupIds": groups if groups is not None else ["sg-1"]}
    }
    if pod_selector is not None:
        spec["podSelector"] = pod_selector
    if sa_selector is not None:
        spec["serviceAccountSelector"] = sa_selector
    return Policy.objects.create(
        cluster=cluster, namespace=namespace, name=name or f"policy-{next(_counter)}", spec=spec
    )


def make_service_account(
    cluster: Cluster, namespace: str = "default", name: str = "default", labels: dict | None = None
) -> ServiceAccount:
    return ServiceAccount.objects.create(
        cluster=cluster, namespace=namespace, name=name, labels=labels or {}
    )


def container(name: str = "app", resources: dict | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "image": "public.ecr.aws/nginx/nginx:1.27",
        "resources": {} if resources is None else resources,
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
        "imagePullPolicy": "IfNotPresent",
    }


def pod(
    name: str = "foo",
    namespace: str | None = "default",
    *,
    labels: dict | None = None,
    annotations: dict | None = None,
    containers: list[dict] | None = None,
    host_network: bool = False,
    node_selector: dict | None = None,
    service_account: str = "default",
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "creationTimestamp": None}
    if namespace is not None:
        metadata["namespace"] = namespace
    if labels is not None:
        metadata["labels"] = labels
    if annotations is not None:
        metadata["annotations"] = annotations
    spec: dict[str, Any] = {
        "containers": containers if containers is not None else [container()],
        "restartPolicy": "Always",
        "terminationGracePeriodSeconds": 30,
        "dnsPolicy": "ClusterFirst",
        "serviceAccountName": service_account,
        "serviceAccount": service_account,
        "securityContext": {},
        "schedulerName": "default-scheduler",
        "enableServiceLinks": True,
        "preemptionPolicy": "PreemptLowerPriority",
        "priority": 0,
    }
    if host_network:
        spec["hostNetwork"] = True
    if node_selector is not None:
        spec["nodeSelector"] = node_selector
    return {"kind": "Pod", "apiVersion": "v1", "metadata": metadata, "spec": spec, "status": {}}


def review(
    obj: dict | None,
    operation: str = "CREATE",
    *,
    old: dict | None = None,
    namespace: str | None = "default",
    username: str = "system:serviceaccount:kube-system:replicaset-controller",
    uid: str | None = None,
    kind: str = "Pod",
) -> dict[str, Any]:
    """An ``admission.k8s.io/v1`` AdmissionReview request as kube-apiserver posts it."""
    gvk = {"group": "", "version": "v1", "kind": kind}
    gvr = {"group": "", "version": "v1", "resource": kind.lower() + "s"}
    options_kind = {"CREATE": "CreateOptions", "UPDATE": "UpdateOptions", "DELETE": "DeleteOptions"}
    source = obj if obj is not None else old
    request: dict[str, Any] = {
        "uid": uid or str(uuid.uuid4()),
        "kind": gvk,
        "resource": gvr,
        "requestKind": gvk,
        "requestResource": gvr,
        "name": ((source or {}).get("metadata") or {}).get("name", ""),
        "operation": operation,
        "userInfo": {
            "username": username,
            "uid": str(uuid.uuid4()),
            "groups": ["system:serviceaccounts", "system:authenticated"],
        },
        "object": copy.deepcopy(obj),
        "oldObject": copy.deepcopy(old),
        "dryRun": False,
        "options": {
            "kind": options_kind.get(operation, "CreateOptions"),
            "apiVersion": "meta.k8s.io/v1",
        },
    }
    if namespace is not None:  # cluster-scoped objects (nodes) have none
        request["namespace"] = namespace
    return {"kind": "AdmissionReview", "apiVersion": "admission.k8s.io/v1", "request": request}


def post_review(client, body: dict | str | bytes, path: str = "/mutate-v1-pod", **extra):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(path, data=data, content_type="application/json", **extra)
