"""Reading the actual state of a namespace over netlink into the plan's vocabulary."""

from __future__ import annotations

import socket
from dataclasses import dataclass

from .model import Route, Rule
from .names import TABLE_MAIN, is_branch_table, vlan_id_of_link

IFF_UP = 0x1
SCOPE_LINK = 253


@dataclass(frozen=True)
class LinkState:
    name: str
    index: int
    mac: str
    up: bool
    kind: str


def rule_from_message(msg) -> Rule:
    table = msg.get_attr("FRA_TABLE") or msg["table"]
    dst = msg.get_attr("FRA_DST")
    src = msg.get_attr("FRA_SRC")
    return Rule(
        priority=msg.get_attr("FRA_PRIORITY") or 0,
        table=table,
        iifname=msg.get_attr("FRA_IIFNAME"),
        dst=f"{dst}/{msg['dst_len']}" if dst else None,
        src=f"{src}/{msg['src_len']}" if src else None,
        fwmark=msg.get_attr("FRA_FWMARK"),
        fwmask=msg.get_attr("FRA_FWMASK"),
    )


def read_rules(ipr) -> list[Rule]:
    return [rule_from_message(msg) for msg in ipr.get_rules(family=socket.AF_INET)]


def read_links(ipr) -> dict[str, LinkState]:
    links = {}
    for msg in ipr.get_links():
        name = msg.get_attr("IFLA_IFNAME")
        info = msg.get_attr("IFLA_LINKINFO")
        kind = info.get_attr("IFLA_INFO_KIND") if info is not None else ""
        links[name] = LinkState(
            name=name,
            index=msg["index"],
            mac=(msg.get_attr("IFLA_ADDRESS") or "").lower(),
            up=bool(msg["flags"] & IFF_UP),
            kind=kind or "",
        )
    return links


def read_routes(ipr, links_by_index: dict[int, str], tables: set[int] | None = None) -> list[Route]:
    """IPv4 unicast routes of the given tables (all branch tables and main when None)."""
    routes = []
    for msg in (
        ipr.get_routes(family=socket.AF_INET, table=None) if tables is None else _dump(ipr, tables)
    ):
        table = msg.get_attr("RTA_TABLE") or msg["table"]
        if tables is None and not (is_branch_table(table) or table == TABLE_MAIN):
            continue
        if msg["type"] != 1:  # RTN_UNICAST
            continue
        dst = msg.get_attr("RTA_DST")
        oif = links_by_index.get(msg.get_attr("RTA_OIF"), "")
        routes.append(
            Route(
                table=table,
                dst=f"{dst}/{msg['dst_len']}" if dst else "0.0.0.0/0",
                oif=oif,
                gateway=msg.get_attr("RTA_GATEWAY"),
                scope="link" if msg["scope"] == SCOPE_LINK else "universe",
            )
        )
    return routes


def _dump(ipr, tables: set[int]):
    for table in sorted(tables):
        yield from ipr.get_routes(family=socket.AF_INET, table=table)


def branch_links(links: dict[str, LinkState]) -> dict[int, LinkState]:
    """``vlan.eth.<id>`` links by VLAN id."""
    found = {}
    for name, link in links.items():
        vlan_id = vlan_id_of_link(name)
        if vlan_id is not None:
            found[vlan_id] = link
    return found


def snapshot_host(executor):
    """Links, IPv4 rules, and main plus branch-table routes of the executor's host namespace."""
    from .reconcile import HostSnapshot

    links = executor.links()
    by_index = {link.index: link.name for link in links.values()}
    return HostSnapshot(
        links=links,
        rules=tuple(read_rules(executor.host)),
        routes=tuple(read_routes(executor.host, by_index)),
    )
