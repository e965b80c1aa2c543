"""The validating pod webhook's decision (``POST /validate-v1-pod``), as upstream makes it.

Pure: :func:`validate_pod` protects the annotations that only the controller writes
(reference §2.2):

- CREATE with ``vpc.amazonaws.com/pod-eni`` (or, with Windows IPAM, the private-IPv4
  annotation) is denied: users cannot pre-seed it;
- UPDATE that changes ``fargate.amazonaws.com/pod-sg`` is denied for everyone;
- UPDATE that adds, changes or removes a protected annotation is denied unless the
  user is one of the controller identities;
- everything else (DELETE, CONNECT) is allowed.

A missing annotation and an empty one compare equal, as Go's map lookup makes them.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from . import pods
from .admission import AdmissionRequest, Decision, allow, deny

UPSTREAM_CONTROLLER_IDENTITIES = (
    "system:serviceaccount:kube-system:vpc-resource-controller",
    "system:serviceaccount:kube-system:eks-vpc-resource-controller",
    "eks:vpc-resource-controller",
)
SGPADMIN_CONTROLLER_IDENTITY = "system:serviceaccount:sgpadmin:sgpadmin-controller"
DEFAULT_CONTROLLER_IDENTITIES = (*UPSTREAM_CONTROLLER_IDENTITIES, SGPADMIN_CONTROLLER_IDENTITY)


def protected_annotations(*, windows_ipam: bool) -> tuple[str, ...]:
    """The annotations only the controller may write."""
    return (pods.POD_ENI, pods.PRIVATE_IPV4) if windows_ipam else (pods.POD_ENI,)


def validate_pod(
    request: AdmissionRequest,
    controller_identities: Collection[str] = DEFAULT_CONTROLLER_IDENTITIES,
    *,
    windows_ipam: bool = False,
) -> Decision:
    """The validating webhook's answer. Raises :class:`~apps.webhooks.pods.BadObject`."""
    protected = protected_annotations(windows_ipam=windows_ipam)
    if request.operation == "CREATE":
        new = _annotations(request.object)
        for key in protected:
            if key in new:
                return deny(f"pod cannot be created with {key} annotation")
        return allow()
    if request.operation == "UPDATE":
        new, old = _annotations(request.object), _annotations(request.old_object)
        if _value(new, pods.FARGATE_SG_ANNOTATION) != _value(old, pods.FARGATE_SG_ANNOTATION):
            return deny("annotation is not set by mutating webhook")
        for key in protected:
            if (
                _value(new, key) != _value(old, key)
                and request.username not in controller_identities
            ):
                return deny("annotation is not set by vpc-resource-controller")
        return allow()
    return allow()


def _annotations(pod: Mapping[str, Any] | None) -> Mapping[str, str]:
    if pod is None:
        raise pods.BadObject("the request carries no pod")
    pods.check_pod(pod, containers=False)
    return pods.annotations_of(pod)


def _value(annotations: Mapping[str, str], key: str) -> str:
    return annotations.get(key) or ""
