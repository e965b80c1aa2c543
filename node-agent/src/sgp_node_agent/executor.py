"""The thin netlink shell: applies a :class:`PodPlan` or :class:`TeardownPlan` with pyroute2.

It decides nothing. Order and tolerance follow upstream's driver: routes use ``replace``, rule
adds ignore EEXIST, deletes treat ENOENT/ESRCH/ENODEV as "already gone".
"""

from __future__ import annotations

import errno
import logging
import os
from concurrent.futures import ThreadPoolExecutor

from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError

from .model import BranchLink, Route, Rule, Sysctl
from .netns import current_netns, entered, link_index, link_mac, open_netns, write_sysctl
from .observe import LinkState, read_links, read_rules
from .plan import PodPlan
from .teardown import ObservedBranch, TeardownPlan, TeardownTarget

log = logging.getLogger(__name__)
GONE = {errno.ENOENT, errno.ESRCH, errno.ENODEV, errno.EADDRNOTAVAIL}
MAX_RULE_DELETES = 64
SCOPE = {"link": 253, "universe": 0}


class PlumbingError(Exception):
    """A step failed; ``step`` names it the way upstream's driver errors do."""

    def __init__(self, step: str, cause: BaseException) -> None:
        super().__init__(f"{step}: {cause}")
        self.step = step
        self.cause = cause


def rule_request(rule: Rule) -> dict:
    """The pyroute2 ``rule()`` keyword arguments for a rule."""
    request: dict = {"priority": rule.priority}
    if rule.table is not None:
        request["table"] = rule.table
    if rule.iifname:
        request["iifname"] = rule.iifname
    if rule.dst:
        address, length = rule.dst.split("/")
        request.update(dst=address, dst_len=int(length))
    if rule.src:
        address, length = rule.src.split("/")
        request.update(src=address, src_len=int(length))
    if rule.fwmark is not None:
        request["fwmark"] = rule.fwmark
    if rule.fwmask is not None:
        request["fwmask"] = rule.fwmask
    return request


def branch_link_request(link: BranchLink, trunk_index: int) -> dict:
    """The pyroute2 ``link('add', ...)`` arguments for ``vlan.eth.<id>`` (vlan or macvlan)."""
    request = {"ifname": link.name, "kind": link.kind, "link": trunk_index, "address": link.mac}
    if link.kind == "vlan":
        request["vlan_id"] = link.vlan_id
    else:
        request["macvlan_mode"] = "bridge"
    return request


def route_request(route: Route, oif_index: int) -> dict:
    request = {
        "dst": route.dst,
        "oif": oif_index,
        "table": route.table,
        "scope": SCOPE[route.scope],
    }
    if route.gateway:
        request["gateway"] = route.gateway
    return request


class Executor:
    """Netlink access to the host namespace (the daemon's own, or ``host_netns`` if given).

    The per-pod paths never dump links or rules: pyroute2 decodes every message of a dump in
    Python, which on a node with a hundred pods costs tens of milliseconds per dump. Names are
    resolved with if_nametoindex/SIOCGIFHWADDR, rules are deleted by selector, and the trunk
    and the MACs in use are cached (refreshed by every full snapshot of the repair pass).
    """

    def __init__(self, host_netns: str | None = None) -> None:
        self.host_fd = open_netns(host_netns) if host_netns else current_netns()
        self._entered_host = bool(host_netns)
        with self.in_host():
            self.host = IPRoute()
        self._trunk: LinkState | None = None
        self._known_macs: set[str] | None = None

    def close(self) -> None:
        self.host.close()
        os.close(self.host_fd)

    def in_host(self):
        return entered(self.host_fd if self._entered_host else None)

    # --- observation -------------------------------------------------------------------
    def links(self) -> dict[str, LinkState]:
        links = read_links(self.host)
        self._known_macs = {link.mac for link in links.values()}
        return links

    def rules(self) -> list[Rule]:
        return read_rules(self.host)

    def host_index(self, name: str) -> int | None:
        with self.in_host():
            return link_index(name)

    def host_mac(self, name: str) -> str | None:
        with self.in_host():
            return link_mac(name)

    def known_macs(self) -> set[str]:
        """MACs of the host's links as of the last listing, plus those created since."""
        if self._known_macs is None:
            self._known_macs = {link.mac for link in read_links(self.host).values()}
        return self._known_macs

    def find_trunk(self, name: str = "", mac: str = "") -> LinkState:
        cached = self._trunk
        if cached is not None and self.host_index(cached.name) == cached.index:
            return cached
        links = self.links()
        if name:
            if name not in links:
                raise LookupError(f"trunk interface {name!r} not found")
            self._trunk = links[name]
        elif mac:
            found = [
                link
                for link in links.values()
                if link.mac == mac.lower() and link.kind not in ("vlan", "macvlan")
            ]
            if not found:
                raise LookupError(f"no interface has the trunk MAC {mac}")
            self._trunk = found[0]
        else:
            raise LookupError("no trunk configured (SGP_TRUNK_INTERFACE or SGP_TRUNK_MAC)")
        return self._trunk

    def observe_branch(self, target: TeardownTarget) -> ObservedBranch:
        return ObservedBranch(
            vlan_link_mac=self.host_mac(f"vlan.eth.{target.vlan_id}"),
            host_veth_mac=self.host_mac(target.host_veth) if target.host_veth else None,
        )

    # --- primitives ----------------------------------------------------------------------
    def delete_host_link(self, name: str) -> bool:
        index = self.host_index(name)
        if index is None:
            return False
        try:
            self.host.link("del", index=index)
        except NetlinkError as exc:
            if exc.code not in GONE:
                raise
        return True

    def retire_host_link(self, name: str, new_name: str, group: int) -> bool:
        """Rename a host link, up or not, and put it into link group ``group``; False when the
        kernel refuses (before Linux 6.2 an up link cannot be renamed: EBUSY) or either name is
        taken or gone."""
        index = self.host_index(name)
        if index is None:
            return False
        try:
            self.host.link("set", index=index, ifname=new_name, group=group)
        except NetlinkError as exc:
            log.debug("could not rename %s to %s: %s", name, new_name, exc)
            return False
        return True

    def delete_link_group(self, group: int) -> None:
        """Delete every host link of link group ``group`` in one request: the kernel then waits
        for one set of RCU grace periods for all of them, not one per link."""
        try:
            self.host.link("del", group=group)
        except NetlinkError as exc:
            if exc.code not in GONE:  # ENODEV: the group is empty
                raise

    def add_rule(self, rule: Rule) -> None:
        try:
            self.host.rule("add", **rule_request(rule))
        except NetlinkError as exc:
            if exc.code != errno.EEXIST:
                raise

    def delete_rule(self, rule: Rule) -> int:
        """Delete every rule the selector matches (None fields are wildcards); returns how many."""
        for count in range(MAX_RULE_DELETES):
            try:
                self.host.rule("del", **rule_request(rule))
            except NetlinkError as exc:
                if exc.code in GONE:
                    return count
                raise
        raise RuntimeError(f"rule {rule.describe()} still present after {MAX_RULE_DELETES} deletes")

    def replace_host_route(self, route: Route) -> None:
        index = self.host_index(route.oif)
        if index is None:
            raise LookupError(f"link {route.oif} for route {route.describe()} is missing")
        self.host.route("replace", **route_request(route, index))

    def delete_route(self, route: Route) -> None:
        """Delete a route through its device; absent device or route = already gone."""
        index = self.host_index(route.oif)
        if index is None:
            return
        address, length = route.dst.split("/")
        try:
            self.host.route(
                "del",
                dst=address,
                dst_len=int(length),
                table=route.table,
                oif=index,
                scope=SCOPE[route.scope],
            )
        except NetlinkError as exc:
            if exc.code not in GONE:
                raise

    def write_sysctls(self, sysctls: tuple[Sysctl, ...]) -> None:
        for sysctl in sysctls:
            write_sysctl(sysctl.path, sysctl.value, sysctl.optional)

    def add_branch_link(self, link: BranchLink) -> None:
        trunk = self.host_index(link.trunk)
        if trunk is None:
            raise LookupError(f"trunk interface {link.trunk} not found")
        self.host.link("add", **branch_link_request(link, trunk))

    def set_host_link_up(self, name: str) -> None:
        index = self.host_index(name)
        if index is None:
            raise LookupError(f"link {name} is missing")
        self.host.link("set", index=index, state="up")

    # --- plans ---------------------------------------------------------------------------
    def apply_pod(self, plan: PodPlan, pod_netns: str) -> str:
        """Plumb a pod in upstream's order; returns the pod interface's MAC."""
        try:
            pod_mac = self._setup_veth(plan, pod_netns)
        except Exception as exc:
            raise PlumbingError("failed to setup veth pair", exc) from exc
        try:
            self.delete_rule(plan.stale_iif_rule)
        except Exception as exc:
            raise PlumbingError("failed to clean up old host veth rule", exc) from exc
        try:
            self.delete_host_link(plan.retired_branch_link)  # left by a daemon that died
            self.delete_host_link(plan.branch_link.name)
            self.add_branch_link(plan.branch_link)
            with self.in_host():
                self.write_sysctls(plan.branch_link_sysctls)
            self.set_host_link_up(plan.branch_link.name)
            for route in plan.table_routes:
                self.replace_host_route(route)
        except Exception as exc:
            raise PlumbingError("failed to setup vlan", exc) from exc
        try:
            self.replace_host_route(plan.pod_route)
            for rule in plan.rules:
                self.add_rule(rule)
        except Exception as exc:
            raise PlumbingError("failed to setup container route rules", exc) from exc
        return pod_mac

    def _setup_veth(self, plan: PodPlan, pod_netns: str) -> str:
        veth = plan.veth
        self.delete_host_link(veth.host_ifname)
        pod_fd = open_netns(pod_netns)
        try:
            with entered(pod_fd):
                pod = IPRoute()
                stale = link_index(veth.pod_ifname)
            try:
                if stale is not None:
                    pod.link("del", index=stale)
                pod.link(
                    "add",
                    ifname=veth.pod_ifname,
                    kind="veth",
                    mtu=veth.mtu,
                    peer={
                        "ifname": veth.host_ifname,
                        "address": veth.host_mac,
                        "mtu": veth.mtu,
                        "net_ns_fd": self.host_fd,
                    },
                )
                self.known_macs().add(veth.host_mac)
                with self.in_host():
                    self.write_sysctls(plan.host_veth_sysctls)
                self.set_host_link_up(veth.host_ifname)
                with entered(pod_fd):
                    index = link_index(veth.pod_ifname)
                    pod_mac = link_mac(veth.pod_ifname)
                if index is None:
                    raise LookupError(f"{veth.pod_ifname} vanished from the pod namespace")
                pod.link("set", index=index, state="up")
                for route in plan.pod_routes:
                    pod.route("replace", **route_request(route, index))
                address, length = plan.pod_address.split("/")
                pod.addr("replace", index=index, address=address, prefixlen=int(length))
                neighbour = plan.pod_neighbour
                pod.neigh(
                    "replace", dst=neighbour.ip, lladdr=neighbour.mac, ifindex=index, state=0x80
                )
                return pod_mac or ""
            finally:
                pod.close()
        finally:
            os.close(pod_fd)

    def apply_teardown(self, plan: TeardownPlan) -> None:
        for name in plan.delete_links:
            try:
                self.delete_host_link(name)
            except Exception as exc:
                raise PlumbingError(f"failed to delete link {name}", exc) from exc
        for rule in plan.delete_rules:
            try:
                self.delete_rule(rule)
            except Exception as exc:
                raise PlumbingError(f"failed to delete rule {rule.describe()}", exc) from exc
        for route in plan.delete_routes:
            try:
                self.delete_route(route)
            except NetlinkError as exc:  # upstream only warns when the pod route cannot be removed
                log.warning("could not delete route %s: %s", route.describe(), exc)

    def apply_repair(self, repair) -> None:
        """Re-create what a :class:`~sgp_node_agent.reconcile.RepairPlan` lists."""
        if repair.recreate_link is not None:
            self.delete_host_link(repair.recreate_link.name)
            self.add_branch_link(repair.recreate_link)
        for name in repair.set_up:
            self.set_host_link_up(name)
        for route in repair.routes:
            self.replace_host_route(route)
        for rule in repair.rules:
            self.add_rule(rule)


class NetlinkThread:
    """Runs all netlink work of the daemon on one thread.

    pyroute2 0.9 keeps a netlink socket per thread (a socket used from another thread is
    re-opened there, in that thread's namespace), and one thread also serialises the node's
    plumbing: ADD, DEL, CHECK and the repair pass never interleave.
    """

    def __init__(self, host_netns: str | None = None) -> None:
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="netlink")
        self.executor: Executor = self.call(Executor, host_netns)

    def call(self, fn, *args, **kwargs):
        return self.pool.submit(fn, *args, **kwargs).result()

    def close(self) -> None:
        self.call(self.executor.close)
        self.pool.shutdown()
