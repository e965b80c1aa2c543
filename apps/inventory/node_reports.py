"""Node agent reports: their schema check, and where they disagree with the controller.

Pure functions over plain data; the API view stores the result. The report's shape is the
node agent's (node-agent/README.md, schema version 1).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

SCHEMA_VERSION = 1
POD_FIELDS = {
    "namespace": str,
    "name": str,
    "uid": str,
    "vlanId": int,
    "eniId": str,
    "branchMac": str,
    "podIp": str,
    "linkUp": bool,
    "rulesOk": bool,
    "routesOk": bool,
}


@dataclass(frozen=True)
class ControllerBranch:
    """What the controller believes is on the node: one live, attached branch ENI."""

    pod_namespace: str
    pod_name: str
    pod_uid: str
    vlan_id: int
    eni_id: str
    mac: str
    private_ip: str


def report_errors(body: Any, node_name: str) -> dict[str, list[str]]:
    """Field-level reasons why ``body`` is not a schema-1 report for ``node_name``."""
    errors: dict[str, list[str]] = {}

    def add(path: str, message: str) -> None:
        errors.setdefault(path, []).append(message)

    if not isinstance(body, Mapping):
        return {"non_field_errors": ["the report must be a JSON object"]}
    if body.get("schemaVersion") != SCHEMA_VERSION:
        add("schemaVersion", f"must be {SCHEMA_VERSION}")
    node = body.get("node")
    if not isinstance(node, Mapping):
        add("node", "must be an object")
    elif node.get("name") != node_name:
        add("node.name", f"must be {node_name!r}, the node in the URL")
    pods = body.get("pods")
    if not isinstance(pods, list):
        add("pods", "must be a list")
        return errors
    for index, pod in enumerate(pods):
        if not isinstance(pod, Mapping):
            add(f"pods[{index}]", "must be an object")
            continue
        for key, kind in POD_FIELDS.items():
            value = pod.get(key)
            if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                add(f"pods[{index}].{key}", f"must be a {kind.__name__}")
    return errors


def disagreements(report: Mapping[str, Any], branches: Iterable[ControllerBranch]) -> list[dict]:
    """Every difference between the node's account and the controller's, in plain words.

    Each item: ``{"pod": "ns/name", "kind": ..., "detail": ...}``. Kinds:
    ``not-plumbed`` (controller attached a branch, the node has nothing for the pod),
    ``unknown-to-controller`` (the node plumbs a pod the controller holds no branch for),
    ``mismatch`` (VLAN, ENI, MAC or IP differ), ``unhealthy`` (link down, rules or routes
    not as expected, or a last error).
    """
    expected = {b.pod_uid: b for b in branches}
    seen: set[str] = set()
    found: list[dict] = []
    for pod in report.get("pods", []):
        label = f"{pod['namespace']}/{pod['name']}"
        branch = expected.get(pod["uid"])
        if branch is None:
            found.append(
                {
                    "pod": label,
                    "kind": "unknown-to-controller",
                    "detail": f"the node plumbs VLAN {pod['vlanId']} ({pod['eniId']}) for a pod the "
                    "controller holds no branch ENI for",
                }
            )
            continue
        seen.add(pod["uid"])
        for field, mine, theirs in (
            ("VLAN", branch.vlan_id, pod["vlanId"]),
            ("ENI", branch.eni_id, pod["eniId"]),
            ("MAC", branch.mac.lower(), pod["branchMac"].lower()),
            ("IP", branch.private_ip, pod["podIp"]),
        ):
            if mine != theirs:
                found.append(
                    {
                        "pod": label,
                        "kind": "mismatch",
                        "detail": f"{field}: controller has {mine}, node has {theirs}",
                    }
                )
        problems = [
            name
            for name, ok in (
                ("branch link down", pod["linkUp"]),
                ("rules not as expected", pod["rulesOk"]),
                ("routes not as expected", pod["routesOk"]),
            )
            if not ok
        ]
        if pod.get("lastError"):
            problems.append(f"last error: {pod['lastError']}")
        if problems:
            found.append({"pod": label, "kind": "unhealthy", "detail": "; ".join(problems)})
    for uid, branch in expected.items():
        if uid not in seen:
            found.append(
                {
                    "pod": f"{branch.pod_namespace}/{branch.pod_name}",
                    "kind": "not-plumbed",
                    "detail": f"the controller attached {branch.eni_id} on VLAN {branch.vlan_id}; "
                    "the node has no plumbing for it",
                }
            )
    return found


def visible_part(
    report: Mapping[str, Any], found: list[dict], may_view: Callable[[str], bool]
) -> tuple[dict, list[dict]]:
    """The report and its disagreements as a viewer limited to some namespaces may see them:
    the pods (and disagreements) of namespaces ``may_view`` allows; lists that name no
    namespace (leftovers removed, repairs) only when it allows every namespace (``""``)."""
    if may_view(""):
        return dict(report), list(found)
    shown = {key: value for key, value in report.items() if key in ("schemaVersion", "node")}
    shown["pods"] = [
        pod
        for pod in report.get("pods", [])
        if isinstance(pod, Mapping) and may_view(str(pod.get("namespace", "")))
    ]
    return shown, [item for item in found if may_view(str(item.get("pod", "")).split("/")[0])]
