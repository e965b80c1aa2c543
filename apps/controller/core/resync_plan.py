"""Restart resync of one node (reference §4.8): EC2 + pod annotations -> branch rows.

Sources of truth, strongest first: the trunk's associations (which VLAN a branch really
uses), the branch ENIs' tags (``trunk-eni-id``, ``vlan-id``), the pod annotations (which pod
a branch serves). The database rows are reconciled with them:

- a branch a live pod's annotation names is kept (its row created or put back to
  ``attached``): the running pod keeps its ENI, and its VLAN stays marked;
- a branch no live pod names is an orphan: it cools down and is deleted (pods deleted or
  completed while we were down); an orphan without a VLAN (no tag, no association), or whose
  VLAN another kept branch holds, is left for the cluster sweep, as upstream does;
- a row whose ENI EC2 no longer has is forgotten (its VLAN freed);
- a live pod that asks for a branch and has no annotation is to be attached (pods created
  while we were down, or whose attach was cut off: the attach resumes its reservation);
- an annotation naming an ENI EC2 does not have is reported (the pod has a stale annotation).

"Live" = the pod object exists, is not Succeeded/Failed and is not being deleted. A row in
progress (``creating``) for a live pod is left alone: the attach task resumes it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

HOLDING_STATES = frozenset({"creating", "attached", "cooling", "deleting", "leaked"})
RELEASED_STATES = frozenset({"cooling", "deleting", "leaked"})
GONE_PHASES = frozenset({"Succeeded", "Failed"})


@dataclass(frozen=True)
class EC2Branch:
    eni_id: str
    vlan_tag: int | None = None
    association_id: str = ""
    associated_vlan: int | None = None

    @property
    def vlan_id(self) -> int | None:
        return self.associated_vlan if self.associated_vlan else self.vlan_tag


@dataclass(frozen=True)
class PodView:
    uid: str
    namespace: str
    name: str
    phase: str = "Running"
    deleting: bool = False
    requests_eni: bool = True
    annotated: bool = False
    annotated_enis: tuple[str, ...] = ()

    @property
    def live(self) -> bool:
        return self.phase not in GONE_PHASES and not self.deleting


@dataclass(frozen=True)
class RowView:
    id: int
    eni_id: str
    vlan_id: int
    state: str
    pod_uid: str
    changed_at: dt.datetime | None = None  # the row's last write


@dataclass(frozen=True)
class Keep:
    row_id: int
    eni_id: str
    pod_uid: str


@dataclass(frozen=True)
class Restore:
    """A row that must serve ``pod_uid`` as ``attached`` again (with the right VLAN)."""

    row_id: int
    eni_id: str
    pod_uid: str
    vlan_id: int
    association_id: str


@dataclass(frozen=True)
class Adopt:
    """A new ``attached`` row for a branch a live pod uses but the database does not know."""

    eni_id: str
    pod_uid: str
    vlan_id: int
    association_id: str


@dataclass(frozen=True)
class Orphan:
    """A new ``cooling`` row for a branch no live pod uses (it is deleted after cooldown)."""

    eni_id: str
    vlan_id: int
    association_id: str


@dataclass(frozen=True)
class Cool:
    """An in-service row whose pod is gone or finished: start its cooldown."""

    row_id: int
    pod_uid: str


@dataclass(frozen=True)
class Forget:
    """A row whose ENI EC2 does not have: nothing to delete, free the VLAN."""

    row_id: int
    eni_id: str


@dataclass(frozen=True)
class Skip:
    eni_id: str
    reason: str


@dataclass(frozen=True)
class StaleAnnotation:
    pod_uid: str
    eni_id: str


@dataclass(frozen=True)
class NeedsAttach:
    pod_uid: str
    namespace: str
    name: str


@dataclass
class ResyncPlan:
    keep: list[Keep] = field(default_factory=list)
    restore: list[Restore] = field(default_factory=list)
    adopt: list[Adopt] = field(default_factory=list)
    orphan: list[Orphan] = field(default_factory=list)
    cool: list[Cool] = field(default_factory=list)
    forget: list[Forget] = field(default_factory=list)
    skip: list[Skip] = field(default_factory=list)
    stale: list[StaleAnnotation] = field(default_factory=list)
    attach: list[NeedsAttach] = field(default_factory=list)

    def summary(self) -> dict[str, int]:
        return {name: len(getattr(self, name)) for name in (
            "keep", "restore", "adopt", "orphan", "cool", "forget", "skip", "stale", "attach")}


def plan_resync(branches: Iterable[EC2Branch], pods: Iterable[PodView],
                rows: Iterable[RowView], snapshot_at: dt.datetime | None = None) -> ResyncPlan:
    """Decide, for one trunk, what the database must become; see the module docstring.

    ``snapshot_at``: when the EC2 describe began (the pods are listed after it). A row
    written since then belongs to work that runs alongside the resync; it is kept as it is.
    """
    branches = sorted(branches, key=lambda b: b.eni_id)
    pods = list(pods)
    rows = sorted((r for r in rows if r.state in HOLDING_STATES), key=lambda r: r.id)
    fresh = [r for r in rows if snapshot_at is not None and r.changed_at is not None
             and r.changed_at >= snapshot_at]
    fresh_ids = {r.id for r in fresh}
    rows = [r for r in rows if r.id not in fresh_ids]
    in_ec2 = {b.eni_id: b for b in branches}
    live = {p.uid: p for p in pods if p.live}
    user_of: dict[str, str] = {}  # eni id -> uid of the live pod whose annotation names it
    for pod in sorted(live.values(), key=lambda p: p.uid):
        for eni_id in pod.annotated_enis:
            user_of.setdefault(eni_id, pod.uid)
    row_of = {r.eni_id: r for r in rows if r.eni_id}
    plan = ResyncPlan()
    vlans: dict[int, str] = {}  # VLAN id -> eni id (or "row:<id>") holding it afterwards
    for row in fresh:
        plan.keep.append(Keep(row.id, row.eni_id, row.pod_uid))
        vlans.setdefault(row.vlan_id, row.eni_id or f"row:{row.id}")
    fresh_enis = {r.eni_id for r in fresh if r.eni_id}
    branches = [b for b in branches if b.eni_id not in fresh_enis]

    # 1. Rows: forget what EC2 lost; cool what lost its pod; keep rows in progress.
    surviving: list[RowView] = []
    for row in rows:
        if row.eni_id and row.eni_id not in in_ec2:
            plan.forget.append(Forget(row.id, row.eni_id))
        elif not row.eni_id:
            if row.state in RELEASED_STATES or row.pod_uid in live:
                surviving.append(row)  # release path or attach in progress owns it
            else:
                plan.cool.append(Cool(row.id, row.pod_uid))
                surviving.append(row)
        else:
            surviving.append(row)
    for row in surviving:
        vlans.setdefault(row.vlan_id, row.eni_id or f"row:{row.id}")

    # 2. Branches in EC2: kept for the pod that names them, else orphans.
    for branch in branches:
        held = row_of.get(branch.eni_id)
        user = user_of.get(branch.eni_id)
        if user is None and held is not None and held.state in ("creating", "attached") \
                and held.pod_uid in live and not live[held.pod_uid].annotated:
            user = held.pod_uid  # attach in progress, not yet annotated
        if held is not None:
            _reconcile_row(plan, held, branch, user, vlans)
            continue
        vlan_id = branch.vlan_id
        if not vlan_id:
            plan.skip.append(Skip(branch.eni_id, "no VLAN tag and no association"))
            continue
        if vlan_id in vlans:
            plan.skip.append(Skip(branch.eni_id, f"VLAN {vlan_id} is held by {vlans[vlan_id]}"))
            continue
        vlans[vlan_id] = branch.eni_id
        if user is not None:
            plan.adopt.append(Adopt(branch.eni_id, user, vlan_id, branch.association_id))
        else:
            plan.orphan.append(Orphan(branch.eni_id, vlan_id, branch.association_id))

    # 3. Pods: stale annotations, and pods still waiting for a branch. A pod with a row in
    #    progress is asked for too: its attach task may have been lost with the broker, and
    #    a new attach resumes the reservation (a duplicate finds the pod busy).
    for pod in sorted(live.values(), key=lambda p: p.uid):
        for eni_id in pod.annotated_enis:
            if eni_id not in in_ec2 and eni_id not in fresh_enis:  # fresh: made after the read
                plan.stale.append(StaleAnnotation(pod.uid, eni_id))
        if pod.requests_eni and not pod.annotated:
            plan.attach.append(NeedsAttach(pod.uid, pod.namespace, pod.name))
    return plan


def _reconcile_row(plan: ResyncPlan, row: RowView, branch: EC2Branch, user: str | None,
                   vlans: dict[int, str]) -> None:
    """An EC2 branch the database tracks: keep, restore to its pod, or start its cooldown."""
    if user is None:
        if row.state in ("creating", "attached"):
            plan.cool.append(Cool(row.id, row.pod_uid))
        else:
            plan.keep.append(Keep(row.id, row.eni_id, row.pod_uid))
        return
    vlan_id = branch.associated_vlan or row.vlan_id
    if row.state in ("creating", "attached") and row.pod_uid == user \
            and vlan_id == row.vlan_id:
        plan.keep.append(Keep(row.id, row.eni_id, row.pod_uid))  # ``creating``: resumed later
        return
    if vlan_id != row.vlan_id and vlans.get(vlan_id, branch.eni_id) != branch.eni_id:
        plan.skip.append(Skip(branch.eni_id, f"VLAN {vlan_id} is held by {vlans[vlan_id]}"))
        return
    if vlans.get(row.vlan_id) == row.eni_id and vlan_id != row.vlan_id:
        del vlans[row.vlan_id]
    vlans[vlan_id] = branch.eni_id
    plan.restore.append(Restore(row.id, branch.eni_id, user, vlan_id, branch.association_id))
