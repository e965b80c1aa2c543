"""Names and numbers derived from a pod and its VLAN id, as upstream's VPC CNI derives them."""

from __future__ import annotations

import hashlib

STRICT = "strict"
STANDARD = "standard"
MODES = (STRICT, STANDARD)

VLAN_LINK_PREFIX = "vlan.eth."
RETIRED_LINK_PREFIX = "vlan.del."  # a branch link renamed by DEL, deleted in the background
RETIRED_LINK_GROUP = 0x736770  # the link group ("sgp") of those links, deleted all at once
STRICT_VETH_PREFIX = "vlan"
DEFAULT_VETH_PREFIX = "eni"
TABLE_OFFSET = 100
MIN_VLAN = 1
MAX_VLAN = 4094

# Rule priorities used for branch pods (upstream constants).
PREF_IIF = 10
PREF_TO_POD = 512
PREF_FWMARK = 1024
PREF_FROM_POD = 1536
PREF_LOCAL_STRICT = 20
PREF_LOCAL_DEFAULT = 0
TABLE_MAIN = 254
TABLE_LOCAL = 255


def pod_hash(namespace: str, pod_name: str) -> str:
    """First 11 hex characters of sha1("<namespace>.<pod>"), the suffix of the host veth name."""
    return hashlib.sha1(f"{namespace}.{pod_name}".encode()).hexdigest()[:11]


def veth_prefix_for(mode: str, veth_prefix: str = DEFAULT_VETH_PREFIX) -> str:
    """Strict pods get ``vlan`` (outside the ``eni+`` SNAT/connmark rules); standard pods the
    configured prefix."""
    return STRICT_VETH_PREFIX if mode == STRICT else veth_prefix


def host_veth_name(
    namespace: str, pod_name: str, mode: str, veth_prefix: str = DEFAULT_VETH_PREFIX
) -> str:
    return veth_prefix_for(mode, veth_prefix) + pod_hash(namespace, pod_name)


def dummy_interface_name(namespace: str, pod_name: str) -> str:
    """Name of the result-only interface whose ``mac`` carries the VLAN id (upstream's trick)."""
    return "dummy" + pod_hash(namespace, pod_name)


def vlan_link_name(vlan_id: int) -> str:
    return f"{VLAN_LINK_PREFIX}{vlan_id}"


def retired_link_name(vlan_id: int) -> str:
    """The name a DEL gives ``vlan.eth.<id>`` before the daemon deletes it in the background: the
    VLAN's own name is free at once, and a leftover after a crash is still recognisable."""
    return f"{RETIRED_LINK_PREFIX}{vlan_id}"


def is_retired_link(ifname: str) -> bool:
    tail = ifname[len(RETIRED_LINK_PREFIX) :]
    return ifname.startswith(RETIRED_LINK_PREFIX) and tail.isdigit()


def vlan_id_of_link(ifname: str) -> int | None:
    """The VLAN id of a ``vlan.eth.<id>`` link name, or None for any other name."""
    if not ifname.startswith(VLAN_LINK_PREFIX):
        return None
    tail = ifname[len(VLAN_LINK_PREFIX) :]
    if not tail.isdigit():
        return None
    vlan_id = int(tail)
    return vlan_id if MIN_VLAN <= vlan_id <= MAX_VLAN else None


def route_table(vlan_id: int) -> int:
    return vlan_id + TABLE_OFFSET


# The kernel's own tables (default 253, main 254, local 255) fall inside vlanId+100 for VLAN ids
# 153..155. The controller only hands out 1..120, but a VLAN id that maps onto them must never be
# plumbed: its routes would land in main or local.
RESERVED_TABLES = frozenset({253, 254, 255})


def is_branch_table(table: int) -> bool:
    return (
        MIN_VLAN + TABLE_OFFSET <= table <= MAX_VLAN + TABLE_OFFSET and table not in RESERVED_TABLES
    )
