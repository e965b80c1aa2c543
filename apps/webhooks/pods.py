"""The parts of a core/v1 Pod the webhooks read, checked the way a decoder would.

Upstream decodes the object into a typed Pod first and answers 400 when it cannot; we
check the shape of the fields we read and raise :class:`BadObject` with the field path.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

POD_ENI = "vpc.amazonaws.com/pod-eni"
PRIVATE_IPV4 = "vpc.amazonaws.com/PrivateIPv4Address"
FARGATE_PROFILE_LABEL = "eks.amazonaws.com/fargate-profile"
FARGATE_SG_ANNOTATION = "fargate.amazonaws.com/pod-sg"
OS_LABEL = "kubernetes.io/os"
OS_LABEL_BETA = "beta.kubernetes.io/os"
WINDOWS = "windows"
DEFAULT_SERVICE_ACCOUNT = "default"


class BadObject(ValueError):
    """The object (a Pod, or a Node) cannot be read; the message names the field."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _map(value: Any, path: str, values: type | None = str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadObject(f"{path} must be an object")
    if values is not None:
        for key, item in value.items():
            if not isinstance(item, values):
                raise BadObject(f"{path}[{key!r}] must be a {values.__name__}")
    return value


def check_pod(pod: Mapping[str, Any], *, containers: bool) -> None:
    """Raise :class:`BadObject` unless the fields the webhooks read have the right types.

    ``containers``: the mutating webhook needs at least one container to patch.
    """
    metadata = _map(pod.get("metadata"), "metadata", values=None)
    _map(metadata.get("labels"), "metadata.labels")
    _map(metadata.get("annotations"), "metadata.annotations")
    if not isinstance(metadata.get("namespace") or "", str):
        raise BadObject("metadata.namespace must be a string")
    spec = _map(pod.get("spec"), "spec", values=None)
    if not isinstance(spec.get("hostNetwork") or False, bool):
        raise BadObject("spec.hostNetwork must be a boolean")
    _map(spec.get("nodeSelector"), "spec.nodeSelector")
    if not isinstance(spec.get("serviceAccountName") or "", str):
        raise BadObject("spec.serviceAccountName must be a string")
    if not containers:
        return
    items = spec.get("containers")
    if not isinstance(items, list) or not items:
        raise BadObject("spec.containers must be a non-empty list")
    first = items[0]
    if not isinstance(first, dict):
        raise BadObject("spec.containers[0] must be an object")
    resources = _map(first.get("resources"), "spec.containers[0].resources", values=None)
    _map(resources.get("limits"), "spec.containers[0].resources.limits", values=None)
    _map(resources.get("requests"), "spec.containers[0].resources.requests", values=None)


def metadata_of(pod: Mapping[str, Any]) -> Mapping[str, Any]:
    return pod.get("metadata") or {}


def labels_of(pod: Mapping[str, Any]) -> Mapping[str, str]:
    return metadata_of(pod).get("labels") or {}


def annotations_of(pod: Mapping[str, Any]) -> Mapping[str, str]:
    return metadata_of(pod).get("annotations") or {}


def spec_of(pod: Mapping[str, Any]) -> Mapping[str, Any]:
    return pod.get("spec") or {}


def namespace(pod: Mapping[str, Any], request_namespace: str) -> str:
    """The pod's namespace; the request's when the object lacks it (as upstream)."""
    return metadata_of(pod).get("namespace") or request_namespace


def service_account_name(pod: Mapping[str, Any]) -> str:
    """``spec.serviceAccountName``; the API server sets ``default`` before webhooks run."""
    return spec_of(pod).get("serviceAccountName") or DEFAULT_SERVICE_ACCOUNT


def has_windows_node_selector(pod: Mapping[str, Any]) -> bool:
    """Only the nodeSelector counts (stable or beta OS label); node affinity does not."""
    selector = spec_of(pod).get("nodeSelector") or {}
    return WINDOWS in (selector.get(OS_LABEL), selector.get(OS_LABEL_BETA))
