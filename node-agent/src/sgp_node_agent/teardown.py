"""The pure teardown decision for a branch pod, with the ownership guard upstream lacks.

Upstream tears down by VLAN id alone: delete ``vlan.eth.N``, every pref-10 rule into table
N+100, the 512/1536 rules of the pod IP and its main route. When a late DEL arrives after the
controller gave the same VLAN id to a new pod on this node (aws/amazon-vpc-cni-k8s#3270), that
cuts the new pod off. Here every object is deleted only when it is still ours:

* the branch link only when its MAC is the branch MAC we recorded and no newer pod claims the id;
* routes through the host veth only when its MAC is the one we generated and no newer pod
  claims the name (the veth itself, as upstream, goes with the pod's network namespace: deleting
  it here would cost a second netdev unregistration, ~15 ms, on every DEL);
* rules into the VLAN table only when the VLAN is ours; otherwise only the rule whose ``iif`` is
  our own host veth (when that name is not claimed by a newer pod);
* the pod-IP rules and routes only when no newer pod claims the IP; routes are deleted with
  their device, so a route through another pod's link never matches. The exception is the
  ``from <IP> lookup <our table>`` rule: a newer owner of the IP points its rule at its own
  table, so that rule is ours unless the VLAN id (the table) went to another pod as well.

Like upstream, the plan is a list of delete *selectors* the executor repeats until ENOENT, so a
DEL needs no rule dump (which is what keeps it fast on a node with many pods).

"Claims" are the agent's records of the other live containers on the node.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .model import Route, Rule
from .names import PREF_FROM_POD, PREF_IIF, PREF_TO_POD, TABLE_MAIN, route_table, vlan_link_name


@dataclass(frozen=True)
class TeardownTarget:
    """What one container's DEL is about, from its prevResult or the agent's record."""

    container_id: str
    vlan_id: int
    pod_ip: str
    host_veth: str | None = None
    branch_mac: str | None = None
    host_veth_mac: str | None = None


@dataclass(frozen=True)
class Claims:
    """VLAN ids, pod IPs and host veth names held by *other* live containers on the node."""

    vlan_ids: frozenset[int] = frozenset()
    pod_ips: frozenset[str] = frozenset()
    host_veths: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ObservedBranch:
    """The part of the host state a teardown looks at: the MACs of the branch link and of the
    host veth, None when the link is absent."""

    vlan_link_mac: str | None = None
    host_veth_mac: str | None = None


@dataclass(frozen=True)
class TeardownPlan:
    delete_links: tuple[str, ...] = ()
    # Delete selectors, each repeated until the kernel answers ENOENT; None fields are
    # wildcards (``pref 10 lookup T`` removes both iif rules of a strict pod).
    delete_rules: tuple[Rule, ...] = ()
    delete_routes: tuple[Route, ...] = ()
    kept: tuple[str, ...] = field(default=())  # what was left alone, and why

    @property
    def empty(self) -> bool:
        return not (self.delete_links or self.delete_rules or self.delete_routes)


def _differs(observed: str | None, recorded: str | None) -> bool:
    return observed is not None and recorded is not None and observed.lower() != recorded.lower()


def plan_teardown(target: TeardownTarget, observed: ObservedBranch, claims: Claims) -> TeardownPlan:
    vlan_link = vlan_link_name(target.vlan_id)
    table = route_table(target.vlan_id)
    host_ip = f"{target.pod_ip}/32"
    kept: list[str] = []

    vlan_foreign = target.vlan_id in claims.vlan_ids or _differs(
        observed.vlan_link_mac, target.branch_mac
    )
    veth_foreign = bool(target.host_veth) and (
        target.host_veth in claims.host_veths
        or _differs(observed.host_veth_mac, target.host_veth_mac)
    )
    ip_foreign = target.pod_ip in claims.pod_ips

    links: list[str] = []
    if observed.vlan_link_mac is not None:
        if vlan_foreign:
            kept.append(f"link {vlan_link}: belongs to another pod now")
        else:
            links.append(vlan_link)
    host_veth = target.host_veth or ""
    veth_ok = bool(host_veth) and not veth_foreign
    rules: list[Rule] = []
    if not vlan_foreign:
        rules.append(Rule(PREF_IIF, table))
    elif veth_ok:
        rules.append(Rule(PREF_IIF, table, iifname=host_veth))
        kept.append(
            f"rules pref {PREF_IIF} lookup {table} of other links: table belongs to another pod"
        )
    else:
        kept.append(
            f"rules pref {PREF_IIF} lookup {table}: table and host veth belong to another pod"
        )
    if ip_foreign:
        kept.append(f"rule pref {PREF_TO_POD} to {host_ip}: IP claimed by another pod")
    else:
        rules.append(Rule(PREF_TO_POD, TABLE_MAIN, dst=host_ip))
    # The new owner of the IP points its rule at its own table: one into ours is ours, unless
    # the VLAN id (and so the table) went to another pod too.
    if ip_foreign and vlan_foreign:
        kept.append(
            f"rule pref {PREF_FROM_POD} from {host_ip} lookup {table}: "
            "IP and table belong to another pod"
        )
    else:
        rules.append(Rule(PREF_FROM_POD, table, src=host_ip))

    routes: list[Route] = []
    if veth_ok and observed.host_veth_mac is not None:
        if not ip_foreign:
            routes.append(Route(TABLE_MAIN, host_ip, host_veth, scope="link"))
        if not vlan_foreign:
            routes.append(Route(table, host_ip, host_veth, scope="link"))

    return TeardownPlan(tuple(links), tuple(rules), tuple(routes), tuple(kept))
