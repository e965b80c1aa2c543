"""Pure comparison of desired and actual host state, for CHECK, repair and the node report.

Given the agent's records and a snapshot of links, rules and routes, decide: which pods are
plumbed as planned (and what is missing), what can be repaired from the host side, which
records belong to pods that no longer exist, and which objects are leftovers nobody owns.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .annotation import BranchENI
from .model import BranchLink, Route, Rule
from .names import (
    PREF_FROM_POD,
    PREF_IIF,
    PREF_TO_POD,
    TABLE_MAIN,
    is_branch_table,
    is_retired_link,
    vlan_id_of_link,
)
from .observe import LinkState
from .plan import PodInputs, PodPlan, plan_pod
from .state import PodRecord
from .teardown import TeardownPlan


@dataclass(frozen=True)
class HostSnapshot:
    links: dict[str, LinkState]
    rules: tuple[Rule, ...]
    routes: tuple[Route, ...]  # main and the branch tables


@dataclass(frozen=True)
class PodStatus:
    record: PodRecord
    link_up: bool
    host_veth_up: bool
    rules_ok: bool
    routes_ok: bool
    missing: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class RepairPlan:
    container_id: str
    recreate_link: BranchLink | None = None
    set_up: tuple[str, ...] = ()
    routes: tuple[Route, ...] = ()
    rules: tuple[Rule, ...] = ()
    kept: tuple[str, ...] = ()  # what was not repaired, and why

    @property
    def empty(self) -> bool:
        return not (self.recreate_link or self.set_up or self.routes or self.rules)


def inputs_from_record(record: PodRecord) -> PodInputs:
    branch = BranchENI(
        eni_id=record.eni_id,
        mac=record.branch_mac,
        ip=record.pod_ip,
        vlan_id=record.vlan_id,
        subnet_cidr=record.subnet_cidr,
        gateway=record.gateway,
    )
    return PodInputs(
        pod_namespace=record.pod_namespace,
        pod_name=record.pod_name,
        ifname=record.ifname,
        mode=record.mode,
        mtu=record.mtu,
        veth_prefix=record.veth_prefix,
        link_kind=record.link_kind,
        branch=branch,
        host_veth_mac=record.host_veth_mac,
        trunk=record.trunk,
    )


def _route_key(route: Route) -> tuple:
    return (route.table, route.dst, route.oif, route.gateway, route.scope)


def compare_pod(record: PodRecord, snapshot: HostSnapshot, inputs: PodInputs) -> PodStatus:
    plan = plan_pod(inputs)
    missing: list[str] = []
    link = snapshot.links.get(plan.branch_link.name)
    if link is None:
        missing.append(f"link {plan.branch_link.name} is missing")
    elif link.mac != plan.branch_link.mac:
        missing.append(
            f"link {plan.branch_link.name} has MAC {link.mac}, not {plan.branch_link.mac}"
        )
    elif not link.up:
        missing.append(f"link {plan.branch_link.name} is down")
    veth = snapshot.links.get(plan.host_veth)
    if veth is None:
        missing.append(f"link {plan.host_veth} is missing")
    elif not veth.up:
        missing.append(f"link {plan.host_veth} is down")
    present_rules = set(snapshot.rules)
    missing_rules = [rule for rule in plan.rules if rule not in present_rules]
    missing += [f"rule {rule.describe()} is missing" for rule in missing_rules]
    present_routes = {_route_key(route) for route in snapshot.routes}
    missing_routes = [r for r in plan.host_routes if _route_key(r) not in present_routes]
    missing += [f"route {route.describe()} is missing" for route in missing_routes]
    link_ok = link is not None and link.up and link.mac == plan.branch_link.mac
    return PodStatus(
        record=record,
        link_up=link_ok,
        host_veth_up=veth is not None and veth.up,
        rules_ok=not missing_rules,
        routes_ok=not missing_routes,
        missing=tuple(missing),
    )


def handed_over(record: PodRecord, plan: PodPlan) -> tuple[str, ...]:
    """Why parts of the record's plan are no longer its own: claims it handed over to a newer
    pod (see :func:`~sgp_node_agent.state.hand_over`)."""
    reasons = []
    if not record.claims_vlan():
        reasons.append(
            f"vlan {record.vlan_id} ({plan.branch_link.name}, table {plan.table}) "
            "belongs to another pod now"
        )
    if not record.claims_ip():
        reasons.append(f"IP {record.pod_ip} belongs to another pod now")
    if not record.claims_host_veth():
        reasons.append(f"host veth {plan.host_veth} belongs to another pod now")
    return tuple(reasons)


def plan_repair(record: PodRecord, snapshot: HostSnapshot, plan: PodPlan) -> RepairPlan:
    """Host-side fixes for a live pod. Nothing is repaired while the host veth is gone: that
    side lives in the pod's namespace and only a new ADD can rebuild it.

    Nothing is re-created that the record handed over to a newer pod: not the branch link,
    table routes or rules of a VLAN id another pod holds, not the rules and routes of an IP
    another pod holds, and nothing at all when the host veth name is another pod's. Re-creating
    the link with this record's MAC would cut the newer pod off."""
    kept = handed_over(record, plan)
    veth = snapshot.links.get(plan.host_veth)
    if not record.claims_host_veth() or veth is None or veth.mac != record.host_veth_mac:
        return RepairPlan(record.container_id, kept=kept)
    vlan_ours, ip_ours = record.claims_vlan(), record.claims_ip()
    host_ip = plan.pod_address

    def ours(table: int | None, *addresses: str | None) -> bool:
        return (vlan_ours or table != plan.table) and (ip_ours or host_ip not in addresses)

    link = snapshot.links.get(plan.branch_link.name)
    recreate = None
    set_up = []
    if vlan_ours:
        if link is None or link.mac != plan.branch_link.mac:
            recreate = plan.branch_link
        if link is None or recreate is not None or not link.up:
            set_up.append(plan.branch_link.name)
    if not veth.up:
        set_up.append(plan.host_veth)
    present_routes = {_route_key(route) for route in snapshot.routes}
    routes = tuple(
        route
        for route in plan.host_routes
        if (recreate is not None or _route_key(route) not in present_routes)
        and ours(route.table, route.dst)
    )
    present_rules = set(snapshot.rules)
    rules = tuple(
        rule
        for rule in plan.rules
        if rule not in present_rules and ours(rule.table, rule.src, rule.dst)
    )
    return RepairPlan(record.container_id, recreate, tuple(set_up), routes, rules, kept)


def superseded(record: PodRecord) -> bool:
    """A newer sandbox took over this record's VLAN id and IP (its DEL never came)."""
    return not record.claims_vlan() and not record.claims_ip()


def stale_records(
    records: list[PodRecord], live_pod_uids: set[str], listed_at: float | None = None
) -> list[PodRecord]:
    """Records whose pod no longer exists on this node (by UID; by name when no UID was given),
    and records a newer sandbox has superseded. A record written after the pod list was taken
    (``listed_at``) is never judged by that list: its pod may simply be too new for it."""
    return [
        r
        for r in records
        if superseded(r)
        or (
            (listed_at is None or r.created_at < listed_at)
            and (r.pod_uid or f"{r.pod_namespace}/{r.pod_name}") not in live_pod_uids
        )
    ]


def find_leftovers(
    records: list[PodRecord], snapshot: HostSnapshot, deleting: frozenset[str] = frozenset()
) -> TeardownPlan:
    """Branch links (``vlan.eth.*``, and ``vlan.del.*`` that a DEL renamed for deletion), rules
    and branch-table routes that no record accounts for. Links in ``deleting`` are being deleted
    already; neither they nor the routes through them are leftovers."""
    plans = [plan_pod(inputs_from_record(record)) for record in records]
    wanted_links = {plan.branch_link.name for plan in plans}
    wanted_rules = {rule for plan in plans for rule in plan.rules}
    wanted_tables = {plan.table for plan in plans}
    links = tuple(
        name
        for name in sorted(snapshot.links)
        if (vlan_id_of_link(name) is not None or is_retired_link(name))
        and name not in wanted_links
        and name not in deleting
    )
    rules: list[Rule] = []
    leftover_sources: set[str] = set()
    for rule in snapshot.rules:
        if rule in wanted_rules or rule.table is None or not is_branch_table(rule.table):
            continue
        if rule.priority == PREF_IIF or rule.priority == PREF_FROM_POD:
            rules.append(rule)
            if rule.priority == PREF_FROM_POD and rule.src:
                leftover_sources.add(rule.src)
    for rule in snapshot.rules:
        if (
            rule.priority == PREF_TO_POD
            and rule.table == TABLE_MAIN
            and rule.dst in leftover_sources
            and rule not in wanted_rules
        ):
            rules.append(rule)
    routes = tuple(
        route
        for route in snapshot.routes
        if is_branch_table(route.table)
        and route.table not in wanted_tables
        and route.oif not in deleting
    )
    return TeardownPlan(links, tuple(rules), routes)
