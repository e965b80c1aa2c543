"""CNI results: the one ADD returns, and reading it back as the prevResult of DEL and CHECK.

Interfaces, in this order:
0. the host veth (``mac`` = the MAC we generated: DEL's proof of ownership);
1. the pod interface (``sandbox`` = the netns path);
2. ``dummy<hash>`` whose ``mac`` is the VLAN id as a decimal string (upstream's convention,
   so a DEL written for upstream's result still finds the VLAN id);
3. ``vlan.eth.<id>`` with the branch MAC (the guard against VLAN-id reuse).
The IP entry points at interface 1; its gateway is the branch subnet's router, as upstream.
"""

from __future__ import annotations

from . import errors
from .names import VLAN_LINK_PREFIX
from .teardown import TeardownTarget


def build_result(cni_version: str, record) -> dict:
    """The ADD result for a :class:`~sgp_node_agent.state.PodRecord`."""
    ip_entry = {"address": f"{record.pod_ip}/32", "gateway": record.gateway, "interface": 1}
    if cni_version != "1.0.0":
        ip_entry["version"] = "4"
    return {
        "cniVersion": cni_version,
        "interfaces": [
            {"name": record.host_veth, "mac": record.host_veth_mac},
            {"name": record.ifname, "mac": record.pod_mac, "sandbox": record.netns},
            {"name": "dummy" + record.host_veth[-11:], "mac": str(record.vlan_id)},
            {"name": f"{VLAN_LINK_PREFIX}{record.vlan_id}", "mac": record.branch_mac},
        ],
        "ips": [ip_entry],
        "routes": [{"dst": "0.0.0.0/0", "gw": "169.254.1.1"}],
        "dns": {},
    }


def target_from_prev_result(
    prev: dict | None, container_id: str, ifname: str
) -> TeardownTarget | None:
    """The teardown target a prevResult describes, or None when it is not a branch pod's result
    (no ``dummy`` interface, or VLAN 0, as upstream treats it). Malformed VLAN ids and a missing
    IP raise CniError."""
    if not prev:
        return None
    interfaces = prev.get("interfaces") or []
    dummy = next((i for i in interfaces if str(i.get("name", "")).startswith("dummy")), None)
    if dummy is None:
        return None
    try:
        vlan_id = int(str(dummy.get("mac", "")))
    except ValueError as exc:
        raise errors.CniError(
            errors.DECODE_FAILURE, f"prevResult VLAN id {dummy.get('mac')!r} is not a number"
        ) from exc
    if vlan_id == 0:
        return None
    pod_index = next(
        (n for n, i in enumerate(interfaces) if i.get("sandbox") or i.get("name") == ifname), None
    )
    ip_entry = None
    for entry in prev.get("ips") or []:
        if pod_index is None or entry.get("interface") in (None, pod_index):
            ip_entry = entry
            break
    if ip_entry is None or not ip_entry.get("address"):
        raise errors.CniError(errors.DECODE_FAILURE, "prevResult has no IP for the pod interface")
    pod_ip = str(ip_entry["address"]).split("/")[0]
    host = next(
        (
            i
            for n, i in enumerate(interfaces)
            if n != pod_index
            and not i.get("sandbox")
            and not str(i.get("name", "")).startswith(("dummy", VLAN_LINK_PREFIX))
        ),
        None,
    )
    branch = next((i for i in interfaces if i.get("name") == f"{VLAN_LINK_PREFIX}{vlan_id}"), None)
    return TeardownTarget(
        container_id=container_id,
        vlan_id=vlan_id,
        pod_ip=pod_ip,
        host_veth=(host or {}).get("name") or None,
        branch_mac=((branch or {}).get("mac") or "").lower() or None,
        host_veth_mac=((host or {}).get("mac") or "").lower() or None,
    )
