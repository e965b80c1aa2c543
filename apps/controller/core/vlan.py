"""VLAN id allocation on one trunk (reference §4.3)."""

from __future__ import annotations

from collections.abc import Iterable

from .constants import MAX_VLAN_ID


def vlan_ceiling(branch_limit: int) -> int:
    """The highest VLAN id usable on a trunk of an instance with ``branch_limit`` branches.

    Upstream's bitmap spans 1..120 whatever the type; the capacity check keeps the count at
    the instance's limit, so ids above it are never needed. We cap at both.
    """
    return max(0, min(MAX_VLAN_ID, branch_limit))


def lowest_free_vlan(in_use: Iterable[int], ceiling: int = MAX_VLAN_ID) -> int | None:
    """The lowest VLAN id in 1..ceiling not in ``in_use``, or None when all are taken."""
    taken = set(in_use)
    for vlan_id in range(1, min(ceiling, MAX_VLAN_ID) + 1):
        if vlan_id not in taken:
            return vlan_id
    return None
