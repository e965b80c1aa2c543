"""The pod's ``vpc.amazonaws.com/pod-eni`` annotation, parsed as leniently as upstream reads it.

The controller writes a JSON array with one object per branch ENI. Keys are matched without
regard to case (``vlanId`` and ``vlanID``, ``associationID`` and ``AssociationId`` both occur),
only element 0 is used, and a usable entry needs a VLAN id in 1..4094, a MAC and an IP.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass

from .errors import AnnotationError
from .names import MAX_VLAN, MIN_VLAN, RESERVED_TABLES, route_table

POD_ENI_ANNOTATION = "vpc.amazonaws.com/pod-eni"
POD_ENI_RESOURCE = "vpc.amazonaws.com/pod-eni"
IPV6_GATEWAY = "fe80:ec2::1"

_MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")


@dataclass(frozen=True)
class BranchENI:
    """Element 0 of the annotation, validated."""

    eni_id: str
    mac: str
    ip: str
    vlan_id: int
    subnet_cidr: str
    gateway: str
    ipv6: str = ""
    subnet_v6_cidr: str = ""
    association_id: str = ""


def _lower_keys(entry: dict) -> dict:
    return {str(key).lower(): value for key, value in entry.items()}


def ipv4_gateway(subnet_cidr: str) -> str:
    """The VPC router of a subnet: its network address plus one."""
    network = ipaddress.IPv4Network(subnet_cidr, strict=False)
    return str(network.network_address + 1)


def parse_pod_eni(value: str) -> BranchENI:
    """Parse the annotation value; raise AnnotationError naming what is wrong."""
    try:
        entries = json.loads(value)
    except (TypeError, ValueError) as exc:
        raise AnnotationError(f"{POD_ENI_ANNOTATION} is not valid JSON: {exc}") from exc
    if not isinstance(entries, list):
        raise AnnotationError(f"{POD_ENI_ANNOTATION} must be a JSON array")
    if not entries:
        raise AnnotationError(f"{POD_ENI_ANNOTATION} is an empty array")
    if not isinstance(entries[0], dict):
        raise AnnotationError(f"{POD_ENI_ANNOTATION}[0] must be an object")
    entry = _lower_keys(entries[0])

    raw_vlan = entry.get("vlanid")
    if isinstance(raw_vlan, bool) or not isinstance(raw_vlan, int | str):
        raise AnnotationError(f"vlanId {raw_vlan!r} is not a number")
    try:
        vlan_id = int(raw_vlan)
    except ValueError as exc:
        raise AnnotationError(f"vlanId {raw_vlan!r} is not a number") from exc
    if not MIN_VLAN <= vlan_id <= MAX_VLAN:
        raise AnnotationError(f"vlanId {vlan_id} is outside {MIN_VLAN}..{MAX_VLAN}")
    if route_table(vlan_id) in RESERVED_TABLES:
        raise AnnotationError(
            f"vlanId {vlan_id} maps to route table {route_table(vlan_id)}, which the kernel reserves"
        )

    mac = str(entry.get("ifaddress") or "").strip().lower()
    if not mac:
        raise AnnotationError("ifAddress (branch MAC) is missing")
    if not _MAC.fullmatch(mac):
        raise AnnotationError(f"ifAddress {mac!r} is not a MAC address")

    ip = str(entry.get("privateip") or "").strip()
    if not ip:
        raise AnnotationError("privateIp is missing")
    try:
        ipaddress.IPv4Address(ip)
    except ValueError as exc:
        raise AnnotationError(f"privateIp {ip!r} is not an IPv4 address") from exc

    subnet = str(entry.get("subnetcidr") or "").strip()
    try:
        network = ipaddress.IPv4Network(subnet, strict=False)
    except ValueError as exc:
        raise AnnotationError(f"subnetCidr {subnet!r} is not an IPv4 CIDR") from exc
    if ipaddress.IPv4Address(ip) not in network:
        raise AnnotationError(f"privateIp {ip} is not inside subnetCidr {subnet}")

    return BranchENI(
        eni_id=str(entry.get("eniid") or ""),
        mac=mac,
        ip=ip,
        vlan_id=vlan_id,
        subnet_cidr=str(network),
        gateway=ipv4_gateway(subnet),
        ipv6=str(entry.get("ipv6addr") or ""),
        subnet_v6_cidr=str(entry.get("subnetv6cidr") or ""),
        association_id=str(entry.get("associationid") or ""),
    )


def requests_pod_eni(pod: dict) -> bool:
    """True when the pod's first container asks for ``vpc.amazonaws.com/pod-eni`` (as upstream
    checks: limits of container 0, any resource name starting with it)."""
    containers = (pod.get("spec") or {}).get("containers") or []
    if not containers:
        return False
    resources = containers[0].get("resources") or {}
    names = list(resources.get("limits") or {}) + list(resources.get("requests") or {})
    return any(str(name).startswith(POD_ENI_RESOURCE) for name in names)
