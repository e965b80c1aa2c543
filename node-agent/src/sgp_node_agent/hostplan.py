"""The pure plan of node-level setup, and of undoing it (``sgp-node-agent uninstall``).

Setup, as aws-node does it for branch pods: rule pref 1024 ``fwmark <mark> lookup main``; in
strict mode the ``local`` rule moves from pref 0 to pref 20 (so pref-10 iif rules win over local
delivery); ``rp_filter=2`` on the primary interface; ``tcp_early_demux`` per
DISABLE_TCP_EARLY_DEMUX; ``ip_forward=1``; and an nftables table with the SNAT and connmark
rules that leave ``vlan+`` (branch links and strict host veths) alone.

Every change is recorded with the value it replaced, so uninstall restores exactly that.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .model import Rule, Sysctl
from .names import (
    PREF_FWMARK,
    PREF_LOCAL_DEFAULT,
    PREF_LOCAL_STRICT,
    STRICT,
    TABLE_LOCAL,
    TABLE_MAIN,
)

NFT_TABLE = "sgp-node-agent"
TCP_EARLY_DEMUX = "net/ipv4/tcp_early_demux"
IP_FORWARD = "net/ipv4/ip_forward"


@dataclass(frozen=True)
class HostInputs:
    mode: str
    primary_interface: str
    primary_ip: str | None
    veth_prefix: str
    connmark: int
    disable_tcp_early_demux: bool
    vpc_cidrs: tuple[str, ...] = ()
    external_snat: bool = False


@dataclass(frozen=True)
class HostObserved:
    rules: tuple[Rule, ...]
    sysctls: dict[str, str | None]  # current values; None = the entry does not exist


@dataclass(frozen=True)
class HostPlan:
    add_rules: tuple[Rule, ...] = ()
    delete_rules: tuple[Rule, ...] = ()
    sysctls: tuple[Sysctl, ...] = ()
    nft_script: str = ""
    undo: dict = field(default_factory=dict)


def fwmark_rule(connmark: int) -> Rule:
    return Rule(PREF_FWMARK, TABLE_MAIN, fwmark=connmark, fwmask=connmark)


LOCAL_AT_0 = Rule(PREF_LOCAL_DEFAULT, TABLE_LOCAL)
LOCAL_AT_20 = Rule(PREF_LOCAL_STRICT, TABLE_LOCAL)


def rp_filter_path(interface: str) -> str:
    return f"net/ipv4/conf/{interface}/rp_filter"


def watched_sysctls(primary_interface: str) -> tuple[str, ...]:
    return (rp_filter_path(primary_interface), TCP_EARLY_DEMUX, IP_FORWARD)


def nft_script(inputs: HostInputs) -> str:
    """Replaces our nftables table atomically (``add``+``delete`` makes it idempotent)."""
    mark = f"{inputs.connmark:#x}"
    vpc = ""
    not_vpc = ""
    vpc_return = ""
    if inputs.vpc_cidrs:
        vpc = f"  set vpc-cidrs {{ type ipv4_addr; flags interval; elements = {{ {', '.join(inputs.vpc_cidrs)} }}; }}\n"
        not_vpc = "ip daddr != @vpc-cidrs "
        vpc_return = "    ip daddr @vpc-cidrs return\n"
    snat = ""
    if not inputs.external_snat and inputs.primary_ip and inputs.vpc_cidrs:
        snat = f"    snat to {inputs.primary_ip}\n"
    prefix = inputs.veth_prefix
    return (
        f"add table ip {NFT_TABLE}\n"
        f"delete table ip {NFT_TABLE}\n"
        f"table ip {NFT_TABLE} {{\n"
        f"{vpc}"
        "  chain mangle-prerouting {\n"
        "    type filter hook prerouting priority mangle; policy accept;\n"
        f'    iifname "{inputs.primary_interface}" fib daddr . iif type local ct mark set ct mark | {mark}\n'
        f'    iifname "{prefix}*" ct mark & {mark} == {mark} meta mark set meta mark | {mark}\n'
        f'    iifname "vlan*" ct mark & {mark} == {mark} meta mark set meta mark | {mark}\n'
        "  }\n"
        "  chain nat-prerouting {\n"
        "    type nat hook prerouting priority dstnat; policy accept;\n"
        f'    iifname "{prefix}*" {not_vpc}fib daddr type != local '
        f"ct mark set ct mark | {mark} meta mark set meta mark | {mark}\n"
        "  }\n"
        "  chain nat-postrouting {\n"
        "    type nat hook postrouting priority srcnat; policy accept;\n"
        '    oifname "vlan*" return\n'
        '    oifname "lo" return\n'
        f"{vpc_return}"
        f"{snat}"
        "  }\n"
        "}\n"
    )


def nft_delete_script() -> str:
    return f"add table ip {NFT_TABLE}\ndelete table ip {NFT_TABLE}\n"


def plan_host(
    inputs: HostInputs, observed: HostObserved, previous_undo: dict | None = None
) -> HostPlan:
    present = set(observed.rules)
    add: list[Rule] = []
    delete: list[Rule] = []
    added: list[Rule] = []
    removed: list[Rule] = []
    originals: dict[str, str] = {}
    undo = {"added_rules": added, "removed_rules": removed, "sysctls": originals}
    fwmark = fwmark_rule(inputs.connmark)
    if fwmark not in present:
        add.append(fwmark)
        added.append(fwmark)
    if inputs.mode == STRICT:
        if LOCAL_AT_20 not in present:
            add.append(LOCAL_AT_20)
            added.append(LOCAL_AT_20)
        if LOCAL_AT_0 in present:
            delete.append(LOCAL_AT_0)
            removed.append(LOCAL_AT_0)
    wanted = {
        rp_filter_path(inputs.primary_interface): "2",
        TCP_EARLY_DEMUX: "0" if inputs.disable_tcp_early_demux else "1",
        IP_FORWARD: "1",
    }
    sysctls = []
    for path, value in wanted.items():
        current = observed.sysctls.get(path)
        if current is None:
            continue  # e.g. no tcp_early_demux on this kernel: upstream skips it too
        if current != value:
            sysctls.append(Sysctl(path, value, optional=True))
            originals[path] = current
    return HostPlan(
        tuple(add),
        tuple(delete),
        tuple(sysctls),
        nft_script(inputs),
        merge_undo(previous_undo, undo),
    )


def merge_undo(older: dict | None, newer: dict) -> dict:
    """Keep the first-seen original of everything: a second setup must not make our own values
    the ones uninstall restores."""
    if not older:
        return newer
    originals: dict[str, str] = {**newer.get("sysctls", {}), **older.get("sysctls", {})}
    merged: dict = {"sysctls": originals}
    for key in ("added_rules", "removed_rules"):
        rules: list[Rule] = list(older.get(key, []))
        rules += [rule for rule in newer.get(key, []) if rule not in rules]
        merged[key] = rules
    return merged


def plan_uninstall(undo: dict, observed: HostObserved) -> HostPlan:
    present = set(observed.rules)
    add = tuple(rule for rule in undo.get("removed_rules", []) if rule not in present)
    delete = tuple(rule for rule in undo.get("added_rules", []) if rule in present)
    sysctls = tuple(
        Sysctl(path, value)
        for path, value in undo.get("sysctls", {}).items()
        if observed.sysctls.get(path) != value
    )
    return HostPlan(add, delete, sysctls, nft_delete_script(), {})
