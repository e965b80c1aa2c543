"""Branch ENI usage, read side: per-node capacity vs in use vs cooling, pods waiting for
capacity, and usage over time rebuilt from the attachment history (for the charts).

In use = branches being created or attached; cooling = branches released but still
holding their VLAN (cooling down, being deleted, or leaked and awaiting the sweep). The
controller's capacity rule is ``in use + cooling < capacity``; "near capacity" is 80 %.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce

from .models import Attachment, BranchENIState, Pod

NEAR_CAPACITY_RATIO = 0.8
IN_USE_STATES = (BranchENIState.CREATING, BranchENIState.ATTACHED)
COOLING_STATES = (BranchENIState.COOLING, BranchENIState.DELETING, BranchENIState.LEAKED)


@dataclass(frozen=True)
class BranchUsage:
    capacity: int
    in_use: int
    cooling: int

    @property
    def used(self) -> int:
        return self.in_use + self.cooling

    @property
    def free(self) -> int:
        return max(self.capacity - self.used, 0)

    @property
    def full(self) -> bool:
        return self.capacity > 0 and self.used >= self.capacity

    @property
    def near_capacity(self) -> bool:
        return self.capacity > 0 and self.used >= NEAR_CAPACITY_RATIO * self.capacity

    @property
    def css_class(self) -> str:
        return "full" if self.full else "near-capacity" if self.near_capacity else ""

    def _pct(self, value: int) -> float:
        total = max(self.capacity, self.used)
        return round(100.0 * value / total, 1) if total else 0.0

    @property
    def pct_in_use(self) -> float:
        return self._pct(self.in_use)

    @property
    def pct_cooling(self) -> float:
        return self._pct(self.cooling)


def waiting_pods():
    """Pods that asked for a branch ENI and have none yet (not host-network, not finished)."""
    return Pod.objects.filter(
        requests_pod_eni=True,
        pod_eni_annotation__isnull=True,
        host_network=False,
        deleted_at__isnull=True,
        phase=Pod.Phase.PENDING,
    )


def with_usage(nodes):
    """Annotate nodes with in-use, cooling and waiting counts, and attach ``usage``.

    One query whatever the number of nodes; returns the annotated queryset, whose rows
    get a ``usage`` attribute through :func:`usage_of`.
    """
    waiting = (
        waiting_pods()
        .filter(cluster=OuterRef("cluster"), node_name=OuterRef("name"))
        .order_by()
        .values("cluster")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return nodes.select_related("cluster", "trunk").annotate(
        in_use_count=Count("trunk__branches", filter=Q(trunk__branches__state__in=IN_USE_STATES)),
        cooling_count=Count("trunk__branches", filter=Q(trunk__branches__state__in=COOLING_STATES)),
        waiting_count=Coalesce(Subquery(waiting, output_field=IntegerField()), Value(0)),
    )


def usage_of(node) -> BranchUsage:
    return BranchUsage(node.branch_capacity, node.in_use_count, node.cooling_count)


def total_usage(nodes) -> BranchUsage:
    """The sum over already-annotated nodes."""
    rows = list(nodes)
    return BranchUsage(
        sum(n.branch_capacity for n in rows),
        sum(n.in_use_count for n in rows),
        sum(n.cooling_count for n in rows),
    )


@dataclass(frozen=True)
class UsageHistory:
    start: datetime
    end: datetime
    capacity: int
    in_use: list[tuple[datetime, int]]
    cooling: list[tuple[datetime, int]]

    @property
    def peak(self) -> int:
        values = [v for _, v in self.in_use] + [v for _, v in self.cooling]
        return max([self.capacity, *values, 1])


def usage_history(
    attachments, capacity: int, cooldown_seconds: int, start: datetime, end: datetime
) -> UsageHistory:
    """Step series of in-use and cooling branch ENIs over [start, end] from attachments.

    An attachment is in use from ``since`` to ``until``, then cooling for the cooldown.
    """
    cooldown = timedelta(seconds=cooldown_seconds)
    rows = (
        attachments.filter(since__lt=end)
        .filter(Q(until__isnull=True) | Q(until__gt=start - cooldown))
        .values_list("since", "until")
    )
    events: list[tuple[datetime, int, int]] = []
    for since, until in rows:
        events.append((since, +1, 0))
        if until is not None:
            events.append((until, -1, +1))
            events.append((until + cooldown, 0, -1))
    events.sort(key=lambda e: e[0])
    in_use = cooling = 0
    in_use_points: list[tuple[datetime, int]] = []
    cooling_points: list[tuple[datetime, int]] = []
    for when, d_use, d_cool in events:
        if when > end:
            break
        in_use += d_use
        cooling += d_cool
        if when >= start:
            in_use_points.append((when, in_use))
            cooling_points.append((when, cooling))
        else:
            in_use_points[:] = [(start, in_use)]
            cooling_points[:] = [(start, cooling)]
    if not in_use_points or in_use_points[0][0] > start:
        in_use_points.insert(0, (start, 0))
        cooling_points.insert(0, (start, 0))
    in_use_points.append((end, in_use))
    cooling_points.append((end, cooling))
    return UsageHistory(start, end, capacity, in_use_points, cooling_points)


def cluster_attachments(cluster, node_name: str | None = None):
    qs = Attachment.objects.filter(cluster=cluster)
    return qs.filter(node_name=node_name) if node_name else qs
