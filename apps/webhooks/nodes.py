"""The validating node webhook's decision (``POST /validate-v1-node``), as upstream makes it.

Pure. The VPC CNI's ``aws-node`` service account may change only two labels of a Node,
``vpc.amazonaws.com/has-trunk-attached`` and ``vpc.amazonaws.com/eniConfig`` (reference
§2.3): its updates are compared with the old Node after removing those labels,
``managedFields`` and ``selfLink``, status included, and denied if anything else
differs. Every other user is allowed.

One deliberate difference: upstream compares decoded Go structs, where a labels map
left empty after removing those labels differs from an absent one; here absent, null
and empty maps compare equal, so aws-node removing a node's last label is allowed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .admission import AdmissionRequest, Decision, allow, deny
from .pods import BadObject

AWS_NODE_USERNAME = "system:serviceaccount:kube-system:aws-node"
AWS_NODE_LABELS = ("vpc.amazonaws.com/has-trunk-attached", "vpc.amazonaws.com/eniConfig")
DENIED = "aws-node can only update limited fields on the Node Object"


def validate_node(request: AdmissionRequest) -> Decision:
    """Allow everyone but aws-node; allow aws-node only the two labels."""
    if request.username != AWS_NODE_USERNAME:
        return allow()
    if request.operation != "UPDATE":
        return allow()
    if request.object is None or request.old_object is None:
        raise BadObject("an UPDATE needs the node and the node before the update")
    if _comparable(request.object) != _comparable(request.old_object):
        return deny(DENIED)
    return allow()


def _comparable(node: Mapping[str, Any]) -> dict[str, Any]:
    metadata = node.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise BadObject("metadata must be an object")
    labels = metadata.get("labels") or {}
    if not isinstance(labels, dict):
        raise BadObject("metadata.labels must be an object")
    kept = {k: v for k, v in labels.items() if k not in AWS_NODE_LABELS}
    meta = {k: v for k, v in metadata.items() if k not in ("labels", "managedFields", "selfLink")}
    if kept:
        meta["labels"] = kept
    return _without_empty({**node, "metadata": meta})


def _without_empty(value: Any) -> Any:
    """Absent, null and empty maps and lists compare equal (Go's omitempty)."""
    if isinstance(value, dict):
        cleaned = {k: _without_empty(v) for k, v in value.items()}
        return {k: v for k, v in cleaned.items() if v not in (None, {}, [])}
    if isinstance(value, list):
        return [_without_empty(item) for item in value]
    return value
