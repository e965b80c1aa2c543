"""What policy sync must do, decided from plain data.

Two sets meet here: the policies in sgpadmin's database and the SecurityGroupPolicy
objects in the cluster. Objects that sgpadmin wrote carry the label
``app.kubernetes.io/managed-by: sgpadmin``; the spec itself is exactly the CRD's.

Rules, per (namespace, name):

- in the database only: a governed policy is created in the cluster (if it had been
  synced before, someone deleted it out of band: drift, restored); an observed policy
  (found in the cluster, never edited here) was deleted by its owner, so its row goes too
  (with an audit record, never silently).
- in the cluster only: written by us means it was deleted here, so delete it there;
  otherwise import it as an observed policy (origin ``cluster``).
- in both, specs equal: nothing (bookkeeping only).
- in both, specs differ:
  - observed policy: mirror the cluster's spec into the database;
  - governed, and the cluster object is the one we last wrote: our change, push it;
  - governed, the cluster object changed since we last wrote it: drift. Restore mode
    pushes ours back; adopt mode takes the cluster's spec, unless the policy was also
    edited here since the last sync, in which case ours wins (no edit is ever lost).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY_VALUE = "sgpadmin"

Key = tuple[str, str]  # (namespace, name)


class DriftMode(StrEnum):
    RESTORE = "restore"
    ADOPT = "adopt"


@dataclass(frozen=True)
class StoredPolicy:
    namespace: str
    name: str
    spec: Mapping[str, Any]
    governed: bool
    version: int
    synced_version: int | None  # our version last written to the cluster
    synced_resource_version: str  # the cluster object's resourceVersion after that write

    @property
    def key(self) -> Key:
        return (self.namespace, self.name)


@dataclass(frozen=True)
class ClusterPolicy:
    namespace: str
    name: str
    spec: Mapping[str, Any]
    resource_version: str
    uid: str
    written_by_us: bool

    @property
    def key(self) -> Key:
        return (self.namespace, self.name)


class Op(StrEnum):
    CREATE_IN_CLUSTER = "create-in-cluster"
    UPDATE_IN_CLUSTER = "update-in-cluster"
    DELETE_FROM_CLUSTER = "delete-from-cluster"
    IMPORT_FROM_CLUSTER = "import-from-cluster"
    UPDATE_FROM_CLUSTER = "update-from-cluster"
    DELETE_FROM_DATABASE = "delete-from-database"
    MARK_SYNCED = "mark-synced"


@dataclass(frozen=True)
class Action:
    op: Op
    key: Key
    spec: Mapping[str, Any] | None = None
    resource_version: str = ""
    uid: str = ""
    drift: bool = False
    reason: str = ""


@dataclass
class SyncPlan:
    actions: list[Action] = field(default_factory=list)

    def of(self, op: Op) -> list[Action]:
        return [a for a in self.actions if a.op == op]

    @property
    def drifts(self) -> list[Action]:
        return [a for a in self.actions if a.drift]


def plan_sync(
    stored: Iterable[StoredPolicy], in_cluster: Iterable[ClusterPolicy], mode: DriftMode
) -> SyncPlan:
    ours = {p.key: p for p in stored}
    theirs = {c.key: c for c in in_cluster}
    plan = SyncPlan()
    for key in sorted(set(ours) | set(theirs)):
        plan.actions.extend(_decide(ours.get(key), theirs.get(key), mode))
    return plan


def _decide(
    ours: StoredPolicy | None, theirs: ClusterPolicy | None, mode: DriftMode
) -> list[Action]:
    if ours is not None and theirs is None:
        if not ours.governed:
            return [Action(Op.DELETE_FROM_DATABASE, ours.key, reason="deleted in the cluster")]
        drift = ours.synced_version is not None
        reason = "deleted in the cluster out of band; restored" if drift else "new policy"
        return [Action(Op.CREATE_IN_CLUSTER, ours.key, spec=ours.spec, drift=drift, reason=reason)]
    if ours is None and theirs is not None:
        if theirs.written_by_us:
            return [Action(Op.DELETE_FROM_CLUSTER, theirs.key, reason="deleted in sgpadmin")]
        return [
            Action(
                Op.IMPORT_FROM_CLUSTER,
                theirs.key,
                spec=theirs.spec,
                resource_version=theirs.resource_version,
                uid=theirs.uid,
                reason="found in the cluster, not written by sgpadmin",
            )
        ]
    assert ours is not None and theirs is not None
    return _decide_both(ours, theirs, mode)


def _push(ours: StoredPolicy, theirs: ClusterPolicy, reason: str, drift: bool = False) -> Action:
    """Write sgpadmin's spec over the cluster object."""
    return Action(
        Op.UPDATE_IN_CLUSTER,
        ours.key,
        spec=ours.spec,
        resource_version=theirs.resource_version,
        uid=theirs.uid,
        drift=drift,
        reason=reason,
    )


def _take(ours: StoredPolicy, theirs: ClusterPolicy, reason: str, drift: bool = False) -> Action:
    """Take the cluster object's spec into the database."""
    return Action(
        Op.UPDATE_FROM_CLUSTER,
        ours.key,
        spec=theirs.spec,
        resource_version=theirs.resource_version,
        uid=theirs.uid,
        drift=drift,
        reason=reason,
    )


def _decide_both(ours: StoredPolicy, theirs: ClusterPolicy, mode: DriftMode) -> list[Action]:
    same_spec = dict(ours.spec) == dict(theirs.spec)
    if not ours.governed:
        if same_spec:
            return _bookkeeping(ours, theirs)
        return [_take(ours, theirs, "changed in the cluster (observed policy)")]
    if same_spec:
        if not theirs.written_by_us:
            return [_push(ours, theirs, "same spec; labelling the object as written by sgpadmin")]
        return _bookkeeping(ours, theirs)
    cluster_untouched = (
        ours.synced_resource_version != ""
        and theirs.resource_version == ours.synced_resource_version
    )
    if cluster_untouched:
        return [_push(ours, theirs, "changed in sgpadmin")]
    edited_here = ours.synced_version != ours.version
    if mode == DriftMode.ADOPT and not edited_here:
        return [_take(ours, theirs, "edited in the cluster out of band; adopted", drift=True)]
    if mode == DriftMode.ADOPT:
        return [
            _push(
                ours,
                theirs,
                "edited in the cluster and in sgpadmin; sgpadmin's edit kept",
                drift=True,
            )
        ]
    return [_push(ours, theirs, "edited in the cluster out of band; restored", drift=True)]


def _bookkeeping(ours: StoredPolicy, theirs: ClusterPolicy) -> list[Action]:
    if (
        ours.synced_resource_version == theirs.resource_version
        and ours.synced_version == ours.version
    ):
        return []
    return [
        Action(
            Op.MARK_SYNCED,
            ours.key,
            resource_version=theirs.resource_version,
            uid=theirs.uid,
            reason="in step",
        )
    ]
