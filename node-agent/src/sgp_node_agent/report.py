"""The node report posted to sgpadmin's ``POST /api/nodes/<name>/report/`` (schema version 1).

Shape (every key always present; see node-agent/README.md for the field table)::

    {
      "schemaVersion": 1,
      "node": {"name": str, "agentVersion": str, "mode": "strict"|"standard",
               "generatedAt": RFC 3339 UTC str, "trunkInterface": str,
               "sysctls": {"net.ipv4.tcp_early_demux": str|null, "net.ipv4.ip_forward": str|null,
                           "net.ipv4.conf.<primary>.rp_filter": str|null},
               "hostRules": {"fwmarkRule": bool, "localRulePriority": int|null},
               "apiError": str|null},
      "pods": [{"namespace": str, "name": str, "uid": str, "containerId": str, "vlanId": int,
                "eniId": str, "branchMac": str, "podIp": str, "hostVeth": str, "mode": str,
                "linkUp": bool, "hostVethUp": bool, "rulesOk": bool, "routesOk": bool,
                "problems": [str], "lastError": str|null}],
      "removedLeftovers": [str],
      "repaired": [str],
      "pendingLinkDeletions": [str],
      "unreadableRecords": [str]
    }
"""

from __future__ import annotations

import datetime

import requests

from . import __version__
from .hostplan import LOCAL_AT_0, LOCAL_AT_20, fwmark_rule
from .model import Rule
from .repair import PassResult

SCHEMA_VERSION = 1


def dotted(path: str) -> str:
    return path.replace("/", ".")


def build_report(
    node_name: str,
    mode: str,
    trunk: str,
    sysctls: dict[str, str | None],
    rules: list[Rule],
    connmark: int,
    result: PassResult,
    now: datetime.datetime | None = None,
) -> dict:
    now = now or datetime.datetime.now(datetime.UTC)
    present = set(rules)
    local_priority = 20 if LOCAL_AT_20 in present else 0 if LOCAL_AT_0 in present else None
    pods = []
    for status in result.statuses:
        record = status.record
        pods.append(
            {
                "namespace": record.pod_namespace,
                "name": record.pod_name,
                "uid": record.pod_uid,
                "containerId": record.container_id,
                "vlanId": record.vlan_id,
                "eniId": record.eni_id,
                "branchMac": record.branch_mac,
                "podIp": record.pod_ip,
                "hostVeth": record.host_veth,
                "mode": record.mode,
                "linkUp": status.link_up,
                "hostVethUp": status.host_veth_up,
                "rulesOk": status.rules_ok,
                "routesOk": status.routes_ok,
                "problems": list(status.missing),
                "lastError": result.errors.get(record.container_id),
            }
        )
    return {
        "schemaVersion": SCHEMA_VERSION,
        "node": {
            "name": node_name,
            "agentVersion": __version__,
            "mode": mode,
            "generatedAt": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "trunkInterface": trunk,
            "sysctls": {dotted(path): value for path, value in sorted(sysctls.items())},
            "hostRules": {
                "fwmarkRule": fwmark_rule(connmark) in present,
                "localRulePriority": local_priority,
            },
            "apiError": result.api_error or None,
        },
        "pods": pods,
        "removedLeftovers": list(result.removed),
        "repaired": list(result.repaired),
        "pendingLinkDeletions": list(result.deleting),
        "unreadableRecords": list(result.unreadable),
    }


class ReportError(RuntimeError):
    pass


def post_report(
    base_url: str, node_name: str, token: str, report: dict, timeout: float = 5.0
) -> int:
    """POST the report with the node's Bearer token; returns the HTTP status, raises ReportError
    for anything but 2xx or a transport failure."""
    url = f"{base_url.rstrip('/')}/api/nodes/{node_name}/report/"
    try:
        response = requests.post(
            url, json=report, headers={"Authorization": f"Bearer {token}"}, timeout=timeout
        )
    except requests.RequestException as exc:
        raise ReportError(f"report to {url} failed: {exc}") from exc
    if not 200 <= response.status_code < 300:
        raise ReportError(f"report to {url} answered {response.status_code}: {response.text[:200]}")
    return response.status_code
