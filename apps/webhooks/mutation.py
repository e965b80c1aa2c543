"""The mutating pod webhook's decision (``POST /mutate-v1-pod``), as upstream makes it.

Pure: :func:`mutate_pod` takes the admission request and a *match* callable that answers
"which security groups does this pod get?" from cached data, and returns a
:class:`~apps.webhooks.admission.Decision`. Behaviour (reference §2.1):

- only CREATE is mutated; ``hostNetwork`` pods are allowed without a patch;
- Fargate pods (label ``eks.amazonaws.com/fargate-profile``) get the
  ``fargate.amazonaws.com/pod-sg`` annotation: ``add``, ``replace`` when the user set
  one, ``remove`` when the user set one and nothing matches;
- Windows pods (by nodeSelector) never get security groups; with Windows IPAM enabled
  they get ``vpc.amazonaws.com/PrivateIPv4Address: "1"`` like upstream;
- Linux pods that match get ``vpc.amazonaws.com/pod-eni: "1"`` in the first
  container's limits and requests; no match is allowed without a patch;
- a lookup error denies, with the reason.

The patch is the diff between the object received and the object as upstream would
serialise it after mutating: upstream fills in ``metadata.namespace`` from the request,
creates the first container's ``limits``/``requests`` maps, and drops an annotations
map left empty (Go's ``omitempty``). Computing the same diff gives the same operations:
whole maps are added when absent, ``…/vpc.amazonaws.com~1pod-eni`` when present, and a
missing ``resources`` is added whole.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from . import pods
from .admission import AdmissionRequest, Decision, allow, allow_with_patch, deny
from .json_patch import diff

RESOURCE_VALUE = "1"
LOOKUP_FAILED = "Failed to get Matching SGP for Pods, rejecting event"


class PodKind(Enum):
    HOST_NETWORK = "HostNetworking"
    FARGATE = "Fargate"
    WINDOWS = "Windows"
    LINUX = "Linux"


@dataclass(frozen=True)
class Lookup:
    """The groups a pod gets, or why they could not be determined."""

    group_ids: tuple[str, ...] = ()
    error: str | None = None


# (namespace, pod labels, service account name) -> Lookup
Matcher = Callable[[str, Mapping[str, str], str], Lookup]


def classify_pod(pod: Mapping[str, Any]) -> PodKind:
    """Upstream's ``WhichPod``: host network, then Fargate, then Windows, else Linux."""
    if pods.spec_of(pod).get("hostNetwork") is True:
        return PodKind.HOST_NETWORK
    if pods.FARGATE_PROFILE_LABEL in pods.labels_of(pod):
        return PodKind.FARGATE
    if pods.has_windows_node_selector(pod):
        return PodKind.WINDOWS
    return PodKind.LINUX


def mutate_pod(
    request: AdmissionRequest, match: Matcher, *, windows_ipam: bool = False
) -> Decision:
    """The mutating webhook's answer. Raises :class:`~apps.webhooks.pods.BadObject`."""
    if request.operation != "CREATE":
        return allow(f"{request.operation} is not mutated; only CREATE is")
    pod = request.object
    if pod is None:
        raise pods.BadObject("the request carries no pod")
    pods.check_pod(pod, containers=True)
    kind = classify_pod(pod)
    if kind is PodKind.HOST_NETWORK:
        return allow("SGP not supported on Pod running on HostNetwork")
    if kind is PodKind.WINDOWS:
        if not windows_ipam:
            return allow()
        return _patched(
            pod, _with_first_container_resource(_as_upstream(pod, request), pods.PRIVATE_IPV4)
        )
    namespace = pods.namespace(pod, request.namespace)
    lookup = match(namespace, pods.labels_of(pod), pods.service_account_name(pod))
    if lookup.error is not None:
        return deny(f"{LOOKUP_FAILED}, error {lookup.error}")
    if kind is PodKind.FARGATE:
        return _fargate(pod, request, lookup.group_ids)
    if not lookup.group_ids:
        return allow("Pod didn't match any SGP")
    return _patched(pod, _with_first_container_resource(_as_upstream(pod, request), pods.POD_ENI))


def _fargate(
    pod: Mapping[str, Any], request: AdmissionRequest, group_ids: tuple[str, ...]
) -> Decision:
    annotations = dict(pods.annotations_of(pod))
    if not group_ids:
        if pods.FARGATE_SG_ANNOTATION not in annotations:
            return allow("Fargate pod not matching any SGP")
        del annotations[pods.FARGATE_SG_ANNOTATION]
    else:
        annotations[pods.FARGATE_SG_ANNOTATION] = ",".join(group_ids)
    mutated = _as_upstream(pod, request)
    meta = dict(mutated.get("metadata") or {})
    if annotations:
        meta["annotations"] = annotations
    else:
        meta.pop("annotations", None)  # an empty map is omitted when serialised
    mutated["metadata"] = meta
    return _patched(pod, mutated)


def _as_upstream(pod: Mapping[str, Any], request: AdmissionRequest) -> dict[str, Any]:
    """A shallow copy with upstream's one metadata fill-in: the namespace from the request."""
    mutated = dict(pod)
    if not pods.metadata_of(pod).get("namespace") and request.namespace:
        mutated["metadata"] = {**pods.metadata_of(pod), "namespace": request.namespace}
    return mutated


def _with_first_container_resource(pod: dict[str, Any], resource: str) -> dict[str, Any]:
    """``pod`` with ``resource: "1"`` in the first container's limits and requests."""
    spec = dict(pods.spec_of(pod))
    containers = list(spec["containers"])
    first = dict(containers[0])
    resources = dict(first.get("resources") or {})
    for key in ("limits", "requests"):
        resources[key] = {**(resources.get(key) or {}), resource: RESOURCE_VALUE}
    first["resources"] = resources
    containers[0] = first
    spec["containers"] = containers
    pod["spec"] = spec
    return pod


def _patched(original: Mapping[str, Any], mutated: Mapping[str, Any]) -> Decision:
    patch = diff(original, mutated)
    return allow_with_patch(patch) if patch else allow()
