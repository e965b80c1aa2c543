"""A node, a "VPC fabric" and two servers in network namespaces (reference vpc-cni-node §7).

    pod netns --veth-- node: eth0 10.0.0.10/24 (primary ENI), eth1 (trunk, no IP)
                              |eth0            |eth1
                        fabric: f-eth0 10.0.0.1/24, f-trunk 10.0.1.1/24 (branch subnet),
                                f-rds 10.0.2.1/24, f-inet 203.0.113.1/24
                              |                |
                        rds 10.0.2.10:5432     inet 203.0.113.10:8080 (off-VPC host)

The fabric routes and enforces security groups statefully with nftables: packets from the node's
primary ENI get mark 1 (node SG); packets on the trunk get the SG of their branch, looked up by
source MAC (this kernel has no 802.1Q, so branches are told apart by MAC, not VLAN tag). RDS
admits only the pod SG (mark 5). Every link lives inside the namespaces made here; names carry a
random suffix, and ``down()`` deletes every namespace it created.
"""

from __future__ import annotations

import os
import secrets

from sgp_node_agent.netns import entered, open_netns, write_sysctl

from standins.netlab import (
    Listener,
    connect,
    link_mac,
    ns_path,
    permanent_neighbour,
    sh,
    wire_primary_eni_pod,
)

__all__ = ["Lab", "Listener", "connect", "ns_path", "sh", "sysctl"]

NODE_IP = "10.0.0.10"
FABRIC_NODE_GW = "10.0.0.1"
RDS_IP = "10.0.2.10"
RDS_PORT = 5432
INET_IP = "203.0.113.10"
INET_PORT = 8080
VPC_CIDR = "10.0.0.0/16"
BRANCH_SUBNET = "10.0.1.0/24"
POD_SG_MARK = 5
NODE_SG_MARK = 1

FABRIC_NFT = f"""
table inet sg {{
  map branch_sg {{ type ether_addr : mark; }}
  counter dropped {{ }}
  chain pre {{
    type filter hook prerouting priority -150; policy accept;
    iifname "f-eth0" meta mark set {NODE_SG_MARK}
    iifname "f-trunk" meta mark set ether saddr map @branch_sg
  }}
  chain forward_sg {{
    type filter hook forward priority 0; policy drop;
    ct state established,related accept
    ip daddr {RDS_IP} tcp dport {RDS_PORT} meta mark {POD_SG_MARK} accept
    ip daddr {BRANCH_SUBNET} tcp dport 8080 meta mark {{ {NODE_SG_MARK}, {POD_SG_MARK} }} accept
    ip daddr 10.0.0.0/24 accept
    oifname "f-inet" accept
    counter name dropped drop
  }}
}}
"""


def sysctl(netns: str, path: str, value: str) -> None:
    fd = open_netns(ns_path(netns))
    try:
        with entered(fd):
            write_sysctl(path, value, optional=False)
    finally:
        os.close(fd)


class Lab:
    def __init__(self) -> None:
        tag = secrets.token_hex(3)
        self.tag = tag
        self.node = f"sgp{tag}-node"
        self.fabric = f"sgp{tag}-fab"
        self.rds = f"sgp{tag}-rds"
        self.inet = f"sgp{tag}-inet"
        self.namespaces: list[str] = []
        self.listeners: list[Listener] = []

    def netns_path(self, name: str) -> str:
        return f"/var/run/netns/{name}"

    def add_netns(self, name: str) -> str:
        sh("ip", "netns", "add", name)
        self.namespaces.append(name)
        sh("ip", "-n", name, "link", "set", "lo", "up")
        return self.netns_path(name)

    def pod_netns(self, short: str) -> str:
        return self.add_netns(f"sgp{self.tag}-{short}")

    def up(self) -> Lab:
        for name in (self.node, self.fabric, self.rds, self.inet):
            self.add_netns(name)
        n, f = self.node, self.fabric
        sh(
            "ip",
            "-n",
            n,
            "link",
            "add",
            "eth0",
            "type",
            "veth",
            "peer",
            "name",
            "f-eth0",
            "netns",
            f,
        )
        sh(
            "ip",
            "-n",
            n,
            "link",
            "add",
            "eth1",
            "type",
            "veth",
            "peer",
            "name",
            "f-trunk",
            "netns",
            f,
        )
        sh(
            "ip",
            "-n",
            f,
            "link",
            "add",
            "f-rds",
            "type",
            "veth",
            "peer",
            "name",
            "eth0",
            "netns",
            self.rds,
        )
        sh(
            "ip",
            "-n",
            f,
            "link",
            "add",
            "f-inet",
            "type",
            "veth",
            "peer",
            "name",
            "eth0",
            "netns",
            self.inet,
        )
        for ns, link, cidr in (
            (n, "eth0", f"{NODE_IP}/24"),
            (f, "f-eth0", "10.0.0.1/24"),
            (f, "f-trunk", "10.0.1.1/24"),
            (f, "f-rds", "10.0.2.1/24"),
            (f, "f-inet", "203.0.113.1/24"),
            (self.rds, "eth0", f"{RDS_IP}/24"),
            (self.inet, "eth0", f"{INET_IP}/24"),
        ):
            sh("ip", "-n", ns, "addr", "add", cidr, "dev", link)
        for ns, link in (
            (n, "eth0"),
            (n, "eth1"),
            (f, "f-eth0"),
            (f, "f-trunk"),
            (f, "f-rds"),
            (f, "f-inet"),
            (self.rds, "eth0"),
            (self.inet, "eth0"),
        ):
            sh("ip", "-n", ns, "link", "set", link, "up")
        sh("ip", "-n", n, "route", "add", "default", "via", FABRIC_NODE_GW)
        sh("ip", "-n", self.rds, "route", "add", "default", "via", "10.0.2.1")
        sh("ip", "-n", self.inet, "route", "add", "default", "via", "203.0.113.1")
        sysctl(f, "net/ipv4/ip_forward", "1")
        sysctl(n, "net/ipv4/ip_forward", "1")
        sh("ip", "netns", "exec", f, "nft", "-f", "-", input=FABRIC_NFT)
        self.listeners.append(Listener(self.rds, RDS_IP, RDS_PORT))
        self.listeners.append(Listener(self.inet, INET_IP, INET_PORT))
        return self

    def link_mac(self, netns: str, link: str) -> str:
        return link_mac(netns, link)

    def register_branch(self, mac: str, ip: str, mark: int = POD_SG_MARK) -> None:
        """What EC2 knows: the branch's IP→MAC (the VPC never ARPs) and its security group."""
        permanent_neighbour(self.fabric, ip, mac, "f-trunk")
        sh(
            "ip",
            "netns",
            "exec",
            self.fabric,
            "nft",
            "add",
            "element",
            "inet",
            "sg",
            "branch_sg",
            f"{{ {mac} : {mark} }}",
        )

    def plain_pod(self, short: str, ip: str) -> str:
        """An ordinary pod on the primary ENI (what the regular VPC CNI would plumb)."""
        name = f"sgp{self.tag}-{short}"
        self.add_netns(name)
        host = f"veth{short}"[:15]
        wire_primary_eni_pod(name, self.node, host, ip)
        permanent_neighbour(self.fabric, ip, self.link_mac(self.node, "eth0"), "f-eth0")
        return name

    def dropped(self) -> int:
        out = sh(
            "ip", "netns", "exec", self.fabric, "nft", "list", "counter", "inet", "sg", "dropped"
        )
        return int(out.split("packets ")[1].split()[0])

    def down(self) -> None:
        for listener in self.listeners:
            listener.close()
        self.listeners.clear()
        for name in reversed(self.namespaces):
            sh("ip", "netns", "del", name, check=False)
        self.namespaces.clear()
