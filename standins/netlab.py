"""A VPC in network namespaces: nodes, hosts and a fabric that routes like EC2 does.

Used by the end-to-end test and the demo (as root). The fabric namespace plays the VPC:
it knows where every ENI address lives (a /32 route and a permanent neighbour per
address, as the VPC never ARPs for ENIs), answers as each subnet's gateway (network
address + 1) on every link that faces that subnet, and enforces security groups with the
table from :mod:`standins.fabric`. Branch ENIs of a node arrive on the node's trunk link,
told apart by source MAC (this kernel has no 802.1Q).

Every link lives inside namespaces made here, with names carrying a random tag; ``down()``
deletes them all, so nothing is left in the root namespace and nothing is routed from it.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import socket
import subprocess
import threading
from dataclasses import dataclass

from .fabric import Fabric, fabric_ruleset


def ns_path(netns: str) -> str:
    return netns if netns.startswith("/") else f"/var/run/netns/{netns}"


def sh(*args: str, input: str | None = None, check: bool = True, timeout: float = 20) -> str:
    done = subprocess.run(list(args), input=input, text=True, capture_output=True, timeout=timeout)
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def socket_in(netns: str, kind: int = socket.SOCK_STREAM) -> socket.socket:
    """A socket that lives in ``netns`` (created there; usable from any thread)."""
    from sgp_node_agent.netns import entered, open_netns

    fd = open_netns(ns_path(netns))
    try:
        with entered(fd):
            return socket.socket(socket.AF_INET, kind)
    finally:
        os.close(fd)


def connect(netns: str, ip: str, port: int, timeout: float = 1.5) -> str | None:
    """Connect from ``netns``: the first line the server sent, or None (timeout, refusal)."""
    sock = socket_in(netns)
    sock.settimeout(timeout)
    try:
        sock.connect((ip, port))
        return sock.recv(256).decode(errors="replace").strip()
    except OSError:
        return None
    finally:
        sock.close()


class Listener:
    """A TCP server in a namespace that answers each connection with the peer's address."""

    def __init__(self, netns: str, ip: str, port: int) -> None:
        self.sock = socket_in(netns)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((ip, port))
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, peer = self.sock.accept()
            except OSError:
                continue
            with conn:
                try:
                    conn.sendall(peer[0].encode() + b"\n")
                except OSError:
                    pass

    def close(self) -> None:
        self._stop.set()
        self.thread.join(2)
        self.sock.close()


def link_mac(netns: str, link: str) -> str:
    return sh("ip", "-n", netns, "-o", "link", "show", link).split("link/ether ")[1].split()[0]


def permanent_neighbour(netns: str, ip: str, mac: str, dev: str) -> None:
    """A permanent ``ip -> mac`` neighbour entry on ``dev`` (added or replaced)."""
    sh("ip", "-n", netns, "neigh", "replace", ip, "lladdr", mac, "dev", dev, "nud", "permanent")


def wire_primary_eni_pod(pod_netns: str, node_netns: str, host_veth: str, ip: str) -> None:
    """What the regular VPC CNI does for a pod on the primary ENI: a veth into the pod,
    the pod's /32, its link-local gateway with a permanent neighbour, the host route."""
    sh(
        "ip",
        "-n",
        pod_netns,
        "link",
        "add",
        "eth0",
        "type",
        "veth",
        "peer",
        "name",
        host_veth,
        "netns",
        node_netns,
    )
    sh("ip", "-n", pod_netns, "addr", "add", f"{ip}/32", "dev", "eth0")
    sh("ip", "-n", pod_netns, "link", "set", "eth0", "up")
    sh("ip", "-n", node_netns, "link", "set", host_veth, "up")
    sh("ip", "-n", pod_netns, "route", "add", "169.254.1.1", "dev", "eth0", "scope", "link")
    sh("ip", "-n", pod_netns, "route", "add", "default", "via", "169.254.1.1", "dev", "eth0")
    permanent_neighbour(pod_netns, "169.254.1.1", link_mac(node_netns, host_veth), "eth0")
    sh("ip", "-n", node_netns, "route", "add", f"{ip}/32", "dev", host_veth, "scope", "link")


@dataclass
class NodeNet:
    netns: str
    primary_link: str  # the fabric side of the node's eth0
    trunk_link: str  # the fabric side of the node's eth1
    primary_mac: str
    trunk_mac: str


class VpcLab:
    def __init__(self, prefix: str = "sgp") -> None:
        self.tag = secrets.token_hex(3)
        self.prefix = f"{prefix}{self.tag}"
        self.fabric = f"{self.prefix}-fab"
        self.namespaces: list[str] = []
        self.closers: list = []

    # -- namespaces --------------------------------------------------------------------
    def add_netns(self, short: str) -> str:
        name = f"{self.prefix}-{short}"
        sh("ip", "netns", "add", name)
        self.namespaces.append(name)
        sh("ip", "-n", name, "link", "set", "lo", "up")
        return name

    def up(self) -> VpcLab:
        self.add_netns("fab")
        self.sysctl(self.fabric, "net/ipv4/ip_forward", "1")
        return self

    def sysctl(self, netns: str, path: str, value: str) -> None:
        sh("ip", "netns", "exec", netns, "sh", "-c", f"echo {value} > /proc/sys/{path}")

    def _wire(self, netns: str, inner: str, outer: str, mac: str | None = None) -> None:
        sh(
            "ip",
            "-n",
            netns,
            "link",
            "add",
            inner,
            "type",
            "veth",
            "peer",
            "name",
            outer,
            "netns",
            self.fabric,
        )
        if mac:
            sh("ip", "-n", netns, "link", "set", inner, "address", mac)
        sh("ip", "-n", netns, "link", "set", inner, "up")
        sh("ip", "-n", self.fabric, "link", "set", outer, "up")

    def _gateway_on(self, link: str, cidr: str) -> str:
        network = ipaddress.ip_network(cidr, strict=False)
        gateway = str(network.network_address + 1)
        sh("ip", "-n", self.fabric, "addr", "add", f"{gateway}/32", "dev", link)
        return gateway

    def route_eni(self, ip: str, link: str, mac: str) -> None:
        """Tell the fabric where an ENI address lives (what EC2's mapping service does)."""
        sh("ip", "-n", self.fabric, "route", "replace", f"{ip}/32", "dev", link)
        permanent_neighbour(self.fabric, ip, mac, link)

    def forget_eni(self, ip: str, link: str) -> None:
        sh("ip", "-n", self.fabric, "route", "del", f"{ip}/32", "dev", link, check=False)
        sh("ip", "-n", self.fabric, "neigh", "del", ip, "dev", link, check=False)

    # -- members of the VPC ------------------------------------------------------------
    def add_node(
        self, short: str, primary_ip: str, subnet_cidr: str, primary_mac: str, trunk_mac: str
    ) -> NodeNet:
        netns = self.add_netns(short)
        node = NodeNet(netns, f"{short}-p", f"{short}-t", primary_mac.lower(), trunk_mac.lower())
        self._wire(netns, "eth0", node.primary_link, node.primary_mac)
        self._wire(netns, "eth1", node.trunk_link, node.trunk_mac)
        prefix = ipaddress.ip_network(subnet_cidr, strict=False).prefixlen
        sh("ip", "-n", netns, "addr", "add", f"{primary_ip}/{prefix}", "dev", "eth0")
        gateway = self._gateway_on(node.primary_link, subnet_cidr)
        self._gateway_on(node.trunk_link, subnet_cidr)
        sh("ip", "-n", netns, "route", "add", "default", "via", gateway, "dev", "eth0")
        self.sysctl(netns, "net/ipv4/ip_forward", "1")
        self.route_eni(primary_ip, node.primary_link, node.primary_mac)
        return node

    def add_host(self, short: str, ip: str, subnet_cidr: str, mac: str | None = None) -> str:
        """A host with one ENI (a database, say) in ``subnet_cidr``."""
        netns = self.add_netns(short)
        link = f"{short}-h"
        self._wire(netns, "eth0", link, mac)
        prefix = ipaddress.ip_network(subnet_cidr, strict=False).prefixlen
        sh("ip", "-n", netns, "addr", "add", f"{ip}/{prefix}", "dev", "eth0")
        gateway = self._gateway_on(link, subnet_cidr)
        sh("ip", "-n", netns, "route", "add", "default", "via", gateway, "dev", "eth0")
        self.route_eni(ip, link, link_mac(netns, "eth0"))
        return netns

    def host_link(self, short: str) -> str:
        return f"{short}-h"

    def plain_pod(self, node: NodeNet, short: str, ip: str) -> str:
        """A pod on the node's primary ENI, as the regular VPC CNI plumbs it."""
        netns = self.add_netns(short)
        wire_primary_eni_pod(netns, node.netns, f"veth{short}"[:15], ip)
        self.route_eni(ip, node.primary_link, node.primary_mac)
        return netns

    def pod_netns(self, short: str) -> str:
        return self.add_netns(short)

    # -- security groups ---------------------------------------------------------------
    def enforce(self, fabric: Fabric) -> None:
        sh("ip", "netns", "exec", self.fabric, "nft", "-f", "-", input=fabric_ruleset(fabric))

    def dropped(self) -> int:
        out = sh(
            "ip",
            "netns",
            "exec",
            self.fabric,
            "nft",
            "list",
            "counter",
            "inet",
            "sgfabric",
            "dropped",
        )
        return int(out.split("packets ")[1].split()[0])

    # -- teardown ----------------------------------------------------------------------
    def down(self) -> None:
        for closer in reversed(self.closers):
            try:
                closer.close()
            except Exception:
                pass
        self.closers.clear()
        for name in reversed(self.namespaces):
            sh("ip", "netns", "del", name, check=False)
        self.namespaces.clear()

    def __enter__(self) -> VpcLab:
        return self.up()

    def __exit__(self, *exc) -> None:
        self.down()
