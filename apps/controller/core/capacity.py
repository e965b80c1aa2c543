"""Branch capacity of a trunk (reference §4.2 step 5b, §3.4)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .constants import POD_ENI
from .model import BranchSlot

# States that hold a VLAN id and count against the instance's branch limit: every state but
# ``deleted``. ``cooling``/``deleting``/``leaked`` are upstream's delete queue.
HOLDING_STATES = frozenset({"creating", "attached", "cooling", "deleting", "leaked"})
COOLING_STATES = frozenset({"cooling", "deleting", "leaked"})


def occupancy(slots: Iterable[BranchSlot]) -> tuple[int, int]:
    """(in use, cooling or being deleted) among the slots that hold capacity."""
    in_use = cooling = 0
    for slot in slots:
        if slot.state not in HOLDING_STATES:
            continue
        if slot.state in COOLING_STATES:
            cooling += 1
        else:
            in_use += 1
    return in_use, cooling


def has_capacity(in_use: int, cooling: int, limit: int, wanted: int = 1) -> bool:
    """Upstream's check: in use + cooling + what we are about to add stays within the limit."""
    return in_use + cooling + wanted <= limit


def capacity_patch(current: Mapping[str, str] | None, branch_limit: int) -> dict | None:
    """The ``nodes/status`` merge patch advertising ``pod-eni``, or None when already right."""
    if current is not None and str(current.get(POD_ENI, "")) == str(branch_limit):
        return None
    return {"status": {"capacity": {POD_ENI: str(branch_limit)}}}
