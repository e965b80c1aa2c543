"""The "VPC fabric": security groups as the EC2 stand-in holds them, enforced by nftables.

In a test lab (network namespaces) one namespace plays the VPC: it routes between the
node's links and the other hosts, and filters statefully the way security groups do.
:func:`fabric_ruleset` turns EC2's view (which ENI has which IPs, MAC and groups; what
each group admits) into one nftables table; :func:`fabric_from_ec2` reads that view
through boto3. Change a rule in EC2, re-apply the table, and the traffic changes.

Model: every ENI gets a packet mark. Packets are marked by where they enter the fabric
(a link for a host's or node's primary ENI; the trunk link plus the branch's source MAC
for a branch ENI, since this kernel has no 802.1Q). A packet to an ENI's address is
accepted when one of that ENI's groups has an ingress rule that admits it: by the source
ENI's groups (marks) or by the source address (CIDR). Replies ride on conntrack. Egress
is open (EC2's default group egress); traffic leaving the VPC link is not filtered.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

TABLE = "sgfabric"


@dataclass(frozen=True)
class IngressRule:
    protocol: str  # "tcp", "udp", "icmp" or "-1"
    from_port: int | None = None
    to_port: int | None = None
    cidrs: tuple[str, ...] = ()
    source_group_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class FabricENI:
    """An ENI as the fabric sees it: its addresses, its groups, and where it enters."""

    eni_id: str
    addresses: tuple[str, ...]
    group_ids: tuple[str, ...]
    link: str  # the fabric's link this ENI's traffic arrives on
    mac: str = ""  # set for branch ENIs: told apart by source MAC on the trunk link


@dataclass
class Fabric:
    enis: list[FabricENI] = field(default_factory=list)
    groups: dict[str, list[IngressRule]] = field(default_factory=dict)
    open_links: tuple[str, ...] = ()  # links to the world outside the VPC (not filtered)


def marks(enis: Sequence[FabricENI]) -> dict[str, int]:
    return {eni.eni_id: index + 1 for index, eni in enumerate(enis)}


def _ports(rule: IngressRule) -> str:
    if rule.protocol not in ("tcp", "udp") or rule.from_port is None:
        return ""
    if rule.from_port in (-1, 0) and rule.to_port in (-1, 65535, None):
        return ""
    if rule.to_port is None or rule.to_port == rule.from_port:
        return f" {rule.protocol} dport {rule.from_port}"
    return f" {rule.protocol} dport {rule.from_port}-{rule.to_port}"


def _protocol(rule: IngressRule) -> str:
    if rule.protocol in ("tcp", "udp") and not _ports(rule):
        return f" meta l4proto {rule.protocol}"
    if rule.protocol == "icmp":
        return " meta l4proto icmp"
    return ""


def _set(values: Iterable[str]) -> str:
    items = sorted(set(values), key=str)
    return items[0] if len(items) == 1 else "{ " + ", ".join(items) + " }"


def fabric_ruleset(fabric: Fabric) -> str:
    """The nftables table (``inet sgfabric``) that enforces ``fabric``'s groups."""
    mark_of = marks(fabric.enis)
    members: dict[str, list[int]] = {}
    for eni in fabric.enis:
        for group in eni.group_ids:
            members.setdefault(group, []).append(mark_of[eni.eni_id])
    pre = []
    for eni in fabric.enis:
        match = f'iifname "{eni.link}"' + (f" ether saddr {eni.mac.lower()}" if eni.mac else "")
        pre.append(f"    {match} meta mark set {mark_of[eni.eni_id]}")
    forward = ["    ct state established,related accept"]
    for eni in fabric.enis:
        if not eni.addresses:
            continue
        destination = f"ip daddr {_set(eni.addresses)}"
        for group in eni.group_ids:
            for rule in fabric.groups.get(group, []):
                tail = _ports(rule) or _protocol(rule)
                sources = sorted({m for g in rule.source_group_ids for m in members.get(g, [])})
                if sources:
                    mark_set = _set(str(m) for m in sources)
                    forward.append(f"    {destination}{tail} meta mark {mark_set} accept")
                for cidr in rule.cidrs:
                    network = ipaddress.ip_network(cidr, strict=False)
                    if network.version == 4:
                        forward.append(f"    {destination} ip saddr {network}{tail} accept")
    for link in fabric.open_links:
        forward.append(f'    oifname "{link}" accept')
    forward.append("    counter name dropped drop")
    body = "\n".join(
        [
            f"table inet {TABLE} {{",
            "  counter dropped { }",
            "  chain mark_source {",
            "    type filter hook prerouting priority -150; policy accept;",
            *pre,
            "  }",
            "  chain enforce {",
            "    type filter hook forward priority 0; policy drop;",
            *forward,
            "  }",
            "}",
        ]
    )
    # Replacing the whole table is atomic in one nft transaction.
    return f"table inet {TABLE}\ndelete table inet {TABLE}\n{body}\n"


def _ingress(permissions: Iterable[Mapping[str, Any]]) -> list[IngressRule]:
    rules = []
    for permission in permissions:
        protocol = str(permission.get("IpProtocol", "-1"))
        rules.append(
            IngressRule(
                protocol={"6": "tcp", "17": "udp", "1": "icmp"}.get(protocol, protocol),
                from_port=permission.get("FromPort"),
                to_port=permission.get("ToPort"),
                cidrs=tuple(r["CidrIp"] for r in permission.get("IpRanges", [])),
                source_group_ids=tuple(
                    p["GroupId"] for p in permission.get("UserIdGroupPairs", [])
                ),
            )
        )
    return rules


def fabric_from_ec2(
    ec2: Any,
    links: Mapping[str, str],
    branch_link: str,
    open_links: Sequence[str] = (),
) -> Fabric:
    """Read the fabric from EC2: ``links`` maps ENI ids to the fabric link they arrive on;
    every branch ENI (description ``aws-k8s-branch-eni``) arrives on ``branch_link``."""
    enis = []
    group_ids: set[str] = set()
    for page in ec2.get_paginator("describe_network_interfaces").paginate():
        for eni in page["NetworkInterfaces"]:
            eni_id = eni["NetworkInterfaceId"]
            is_branch = eni.get("Description") == "aws-k8s-branch-eni"
            link = branch_link if is_branch else links.get(eni_id)
            if link is None:
                continue
            groups = tuple(g["GroupId"] for g in eni.get("Groups", []))
            group_ids.update(groups)
            addresses = tuple(a["PrivateIpAddress"] for a in eni.get("PrivateIpAddresses", []))
            enis.append(
                FabricENI(
                    eni_id=eni_id,
                    addresses=addresses or (eni["PrivateIpAddress"],),
                    group_ids=groups,
                    link=link,
                    mac=eni.get("MacAddress", "") if is_branch else "",
                )
            )
    groups: dict[str, list[IngressRule]] = {}
    if group_ids:
        described = ec2.describe_security_groups(GroupIds=sorted(group_ids))["SecurityGroups"]
        groups = {g["GroupId"]: _ingress(g.get("IpPermissions", [])) for g in described}
    enis.sort(key=lambda e: (e.link, e.eni_id))
    return Fabric(enis=enis, groups=groups, open_links=tuple(open_links))
