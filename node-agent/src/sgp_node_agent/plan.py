"""The pure plan of a branch-ENI pod: what must exist on the node and in the pod for it to work.

No netlink here. ``plan_pod`` turns the pod's inputs into the exact links, addresses, routes,
neighbour, sysctls and rules upstream's VPC CNI creates (strict or standard mode); the executor
applies them in upstream's order, and the reconciler compares them with what it observes.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from .annotation import BranchENI
from .model import BranchLink, Neighbour, Route, Rule, Sysctl, VethPair
from .names import (
    PREF_FROM_POD,
    PREF_IIF,
    PREF_TO_POD,
    STRICT,
    TABLE_MAIN,
    host_veth_name,
    retired_link_name,
    route_table,
    vlan_link_name,
)

POD_GATEWAY = "169.254.1.1"  # the pod's next hop; answered by the host veth via a static neighbour


@dataclass(frozen=True)
class PodInputs:
    """Everything a pod's plumbing depends on."""

    pod_namespace: str
    pod_name: str
    ifname: str
    mode: str
    mtu: int
    veth_prefix: str
    link_kind: str
    branch: BranchENI
    host_veth_mac: str
    trunk: str


@dataclass(frozen=True)
class PodPlan:
    host_veth: str
    table: int
    veth: VethPair
    branch_link: BranchLink
    pod_address: str
    pod_routes: tuple[Route, ...]
    pod_neighbour: Neighbour
    host_veth_sysctls: tuple[Sysctl, ...]
    branch_link_sysctls: tuple[Sysctl, ...]
    stale_iif_rule: Rule  # pref 10 iif <host veth>, any table: removed before setup
    table_routes: tuple[Route, ...]  # gateway link route and default route in the VLAN table
    pod_route: Route  # <pod ip>/32 dev <host veth>: in the VLAN table (strict) or main (standard)
    rules: tuple[Rule, ...]

    @property
    def host_routes(self) -> tuple[Route, ...]:
        return (*self.table_routes, self.pod_route)

    @property
    def retired_branch_link(self) -> str:
        """The name an earlier DEL of this VLAN id gave its link (deleted before setup)."""
        return retired_link_name(self.branch_link.vlan_id)


def ipv6_link_sysctls(ifname: str) -> tuple[Sysctl, ...]:
    """Written on the host veth and the branch link before they go up (skipped without IPv6)."""
    base = f"net/ipv6/conf/{ifname}"
    return (
        Sysctl(f"{base}/accept_ra", "0"),
        Sysctl(f"{base}/accept_redirects", "1"),
        Sysctl(f"{base}/forwarding", "0"),
    )


def mode_rules(
    mode: str, vlan_link: str, host_veth: str, pod_ip: str, table: int
) -> tuple[Rule, ...]:
    if mode == STRICT:
        return (
            Rule(PREF_IIF, table, iifname=vlan_link),
            Rule(PREF_IIF, table, iifname=host_veth),
        )
    host = f"{pod_ip}/32"
    return (
        Rule(PREF_TO_POD, TABLE_MAIN, dst=host),
        Rule(PREF_FROM_POD, table, src=host),
    )


def plan_pod(inputs: PodInputs) -> PodPlan:
    branch = inputs.branch
    ipaddress.IPv4Address(branch.ip)  # a plan is only made for a validated IPv4 branch
    host_veth = host_veth_name(
        inputs.pod_namespace, inputs.pod_name, inputs.mode, inputs.veth_prefix
    )
    vlan_link = vlan_link_name(branch.vlan_id)
    table = route_table(branch.vlan_id)
    pod_ip = branch.ip
    gateway = branch.gateway
    return PodPlan(
        host_veth=host_veth,
        table=table,
        veth=VethPair(inputs.ifname, host_veth, inputs.host_veth_mac, inputs.mtu),
        branch_link=BranchLink(
            vlan_link, inputs.link_kind, branch.vlan_id, branch.mac, inputs.trunk
        ),
        pod_address=f"{pod_ip}/32",
        pod_routes=(
            Route(TABLE_MAIN, f"{POD_GATEWAY}/32", inputs.ifname, scope="link"),
            Route(TABLE_MAIN, "0.0.0.0/0", inputs.ifname, gateway=POD_GATEWAY),
        ),
        pod_neighbour=Neighbour(POD_GATEWAY, inputs.host_veth_mac, inputs.ifname),
        host_veth_sysctls=ipv6_link_sysctls(host_veth),
        branch_link_sysctls=ipv6_link_sysctls(vlan_link),
        stale_iif_rule=Rule(PREF_IIF, None, iifname=host_veth),
        table_routes=(
            Route(table, f"{gateway}/32", vlan_link, scope="link"),
            Route(table, "0.0.0.0/0", vlan_link, gateway=gateway),
        ),
        pod_route=Route(
            table if inputs.mode == STRICT else TABLE_MAIN, f"{pod_ip}/32", host_veth, scope="link"
        ),
        rules=mode_rules(inputs.mode, vlan_link, host_veth, pod_ip, table),
    )


def choose_mac(candidates: list[bytes], taken: set[str]) -> str:
    """The first candidate that, made locally administered and unicast, no existing link uses.

    Upstream tries up to 10 random MACs; the caller passes the random bytes so this stays pure.
    """
    for raw in candidates:
        octets = bytearray(raw[:6])
        if len(octets) < 6:
            continue
        octets[0] = (octets[0] | 0x02) & 0xFE
        mac = ":".join(f"{octet:02x}" for octet in octets)
        if mac not in taken:
            return mac
    raise ValueError("no unique MAC among the candidates")
