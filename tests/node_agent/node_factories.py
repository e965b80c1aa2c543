"""Builders of plain inputs for the pure-core tests."""

from __future__ import annotations

from sgp_node_agent.annotation import BranchENI
from sgp_node_agent.observe import LinkState
from sgp_node_agent.plan import PodInputs, plan_pod
from sgp_node_agent.reconcile import HostSnapshot, inputs_from_record
from sgp_node_agent.state import PodRecord


def branch(
    vlan_id: int = 7,
    ip: str = "192.168.120.20",
    mac: str = "00:00:5e:00:53:af",
    subnet: str = "192.168.120.0/24",
    gateway: str = "192.168.120.1",
) -> BranchENI:
    return BranchENI(
        eni_id=f"eni-{vlan_id}",
        mac=mac,
        ip=ip,
        vlan_id=vlan_id,
        subnet_cidr=subnet,
        gateway=gateway,
    )


def pod_inputs(
    mode: str = "strict", vlan_id: int = 7, name: str = "green", **branch_changes
) -> PodInputs:
    return PodInputs(
        pod_namespace="default",
        pod_name=name,
        ifname="eth0",
        mode=mode,
        mtu=9001,
        veth_prefix="eni",
        link_kind="vlan",
        branch=branch(vlan_id=vlan_id, **branch_changes),
        host_veth_mac="02:11:22:33:44:55",
        trunk="eth1",
    )


def record(
    container_id: str = "c1",
    mode: str = "strict",
    vlan_id: int = 7,
    name: str = "green",
    ip: str = "192.168.120.20",
    mac: str = "00:00:5e:00:53:af",
    host_veth_mac: str = "02:11:22:33:44:55",
    uid: str = "uid-green",
) -> PodRecord:
    from sgp_node_agent.names import host_veth_name

    return PodRecord(
        container_id=container_id,
        ifname="eth0",
        netns=f"/var/run/netns/{container_id}",
        pod_namespace="default",
        pod_name=name,
        pod_uid=uid,
        mode=mode,
        link_kind="vlan",
        vlan_id=vlan_id,
        branch_mac=mac,
        pod_ip=ip,
        subnet_cidr="192.168.120.0/24",
        gateway="192.168.120.1",
        eni_id=f"eni-{vlan_id}",
        host_veth=host_veth_name("default", name, mode),
        host_veth_mac=host_veth_mac,
        pod_mac="0a:00:00:00:00:01",
        trunk="eth1",
        mtu=9001,
        veth_prefix="eni",
    )


def healthy_snapshot(*records, extra_links=(), extra_rules=(), extra_routes=()) -> HostSnapshot:
    """Every planned link (up, with the recorded MACs), rule and host route of the records."""
    links, rules, routes = {}, [], []
    for index, rec in enumerate(records):
        plan = plan_pod(inputs_from_record(rec))
        links[plan.branch_link.name] = LinkState(
            plan.branch_link.name, 10 + index, rec.branch_mac, True, "vlan"
        )
        links[plan.host_veth] = LinkState(
            plan.host_veth, 50 + index, rec.host_veth_mac, True, "veth"
        )
        rules += plan.rules
        routes += plan.host_routes
    for link in extra_links:
        links[link.name] = link
    return HostSnapshot(links, (*rules, *extra_rules), (*routes, *extra_routes))
