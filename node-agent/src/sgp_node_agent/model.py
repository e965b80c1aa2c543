"""Plain values for links, routes, rules, neighbours and sysctls: the vocabulary of every plan.

Every value can describe itself the way ``ip rule`` / ``ip route`` would print it, which is what
reports and error messages show.
"""

from __future__ import annotations

from dataclasses import dataclass

from .names import TABLE_LOCAL, TABLE_MAIN


def _table_name(table: int) -> str:
    return {TABLE_MAIN: "main", TABLE_LOCAL: "local"}.get(table, str(table))


@dataclass(frozen=True, order=True)
class Rule:
    """An IPv4 policy rule. ``None`` selectors are wildcards, as in a kernel delete request."""

    priority: int
    table: int | None
    iifname: str | None = None
    dst: str | None = None  # "10.0.1.20/32"
    src: str | None = None
    fwmark: int | None = None
    fwmask: int | None = None

    def describe(self) -> str:
        parts = [f"pref {self.priority}"]
        if self.src:
            parts.append(f"from {self.src}")
        if self.dst:
            parts.append(f"to {self.dst}")
        if self.iifname:
            parts.append(f"iif {self.iifname}")
        if self.fwmark is not None:
            parts.append(f"fwmark {self.fwmark:#x}/{(self.fwmask or 0xFFFFFFFF):#x}")
        parts.append(f"lookup {'*' if self.table is None else _table_name(self.table)}")
        return " ".join(parts)

    def matches(self, other: Rule) -> bool:
        """True when ``other`` is selected by this rule, treating None fields as wildcards."""
        for name in ("priority", "table", "iifname", "dst", "src", "fwmark", "fwmask"):
            mine = getattr(self, name)
            if mine is not None and mine != getattr(other, name):
                return False
        return True


@dataclass(frozen=True, order=True)
class Route:
    """An IPv4 route in a table; ``dst`` is "a.b.c.d/len" ("0.0.0.0/0" for default)."""

    table: int
    dst: str
    oif: str
    gateway: str | None = None
    scope: str = "universe"  # "link" for on-link routes

    def describe(self) -> str:
        dst = "default" if self.dst == "0.0.0.0/0" else self.dst.removesuffix("/32")
        via = f" via {self.gateway}" if self.gateway else ""
        scope = " scope link" if self.scope == "link" else ""
        return f"{dst}{via} dev {self.oif}{scope} table {_table_name(self.table)}"


@dataclass(frozen=True)
class Neighbour:
    ip: str
    mac: str
    ifname: str

    def describe(self) -> str:
        return f"{self.ip} lladdr {self.mac} dev {self.ifname} nud permanent"


@dataclass(frozen=True)
class Sysctl:
    """A value under /proc/sys, path in slash form (``net/ipv6/conf/vlan.eth.5/accept_ra``): the
    dotted form is ambiguous for interface names with dots. ``optional`` = skip if absent."""

    path: str
    value: str
    optional: bool = True

    def describe(self) -> str:
        return f"{self.path}={self.value}"


@dataclass(frozen=True)
class VethPair:
    pod_ifname: str
    host_ifname: str
    host_mac: str
    mtu: int


@dataclass(frozen=True)
class BranchLink:
    """``vlan.eth.<id>`` on the trunk with the branch MAC. ``kind`` is ``vlan`` in production and
    ``macvlan`` only where the kernel lacks 802.1Q (the one place the lab differs)."""

    name: str
    kind: str
    vlan_id: int
    mac: str
    trunk: str
