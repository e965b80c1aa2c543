"""Carry out a policy sync plan against one cluster and the database.

The cluster is reached through the official client's ``CustomObjectsApi``; the caller
supplies it (built from the Cluster's connection settings), so this module decides nothing
about connections. Every database write runs in a worker change scope, so imports, mirrors
and drift appear in the change log.
"""

from __future__ import annotations

import contextlib
import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from kubernetes.client.exceptions import ApiException

from apps.audit.models import ChangeRecord
from apps.audit.recording import record_change
from apps.core.context import ChangeContext, change_scope, current_scope

from ..models import API_VERSION, Origin, Policy
from .plan import (
    MANAGED_BY_LABEL,
    MANAGED_BY_VALUE,
    Action,
    ClusterPolicy,
    DriftMode,
    Op,
    StoredPolicy,
    plan_sync,
)

logger = logging.getLogger(__name__)
GROUP, VERSION = API_VERSION.split("/")
PLURAL = "securitygrouppolicies"


@dataclass
class SyncReport:
    counts: Counter = field(default_factory=Counter)
    drifts: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"counts": dict(self.counts), "drifts": self.drifts, "errors": self.errors,
                "skipped": self.skipped}


class ChangedSinceRead(Exception):
    """The policy row changed after this pass read it: the next pass plans from the new row."""


def read_cluster(custom_api) -> list[ClusterPolicy]:
    listing = custom_api.list_cluster_custom_object(GROUP, VERSION, PLURAL)
    found = []
    for item in listing.get("items", []):
        meta = item.get("metadata") or {}
        labels = meta.get("labels") or {}
        found.append(
            ClusterPolicy(
                namespace=meta.get("namespace", ""),
                name=meta.get("name", ""),
                spec=item.get("spec") or {},
                resource_version=str(meta.get("resourceVersion", "")),
                uid=str(meta.get("uid", "")),
                written_by_us=labels.get(MANAGED_BY_LABEL) == MANAGED_BY_VALUE,
            )
        )
    return found


def read_database(cluster) -> dict[tuple[str, str], Policy]:
    return {
        (p.namespace, p.name): p
        for p in Policy.objects.filter(cluster=cluster).select_related("cluster")
    }


def _stored(policy: Policy) -> StoredPolicy:
    return StoredPolicy(
        namespace=policy.namespace,
        name=policy.name,
        spec=policy.spec,
        governed=policy.governed,
        version=policy.version,
        synced_version=policy.cluster_synced_version,
        synced_resource_version=policy.cluster_resource_version,
    )


def manifest(policy: Policy, resource_version: str = "") -> dict:
    body = policy.to_manifest()
    body["metadata"]["labels"] = {MANAGED_BY_LABEL: MANAGED_BY_VALUE}
    if resource_version:
        body["metadata"]["resourceVersion"] = resource_version
    return body


def sync_cluster(cluster, custom_api, mode: DriftMode | str = DriftMode.RESTORE) -> SyncReport:
    """One full pass: read both sides, plan, apply. Safe to run again at any time."""
    mode = DriftMode(mode)
    report = SyncReport()
    stored = read_database(cluster)
    plan = plan_sync([_stored(p) for p in stored.values()], read_cluster(custom_api), mode)
    with change_scope(context=ChangeContext.WORKER, actor_name="policy-sync"):
        for action in plan.actions:
            try:
                _apply(action, cluster, stored.get(action.key), custom_api)
            except ChangedSinceRead:
                report.skipped.append(f"{action.op.value} {'/'.join(action.key)}: changed meanwhile")
                continue
            except ApiException as exc:
                report.errors.append(
                    f"{action.op.value} {'/'.join(action.key)}: {exc.status} {exc.reason}"
                )
                logger.warning("policy sync %s %s failed: %s", action.op.value, action.key, exc)
                continue
            report.counts[action.op.value] += 1
            if action.drift:
                report.drifts.append(f"{'/'.join(action.key)}: {action.reason}")
    return report


def _apply(action: Action, cluster, policy: Policy | None, custom_api) -> None:
    namespace, name = action.key
    if action.op == Op.CREATE_IN_CLUSTER:
        created = custom_api.create_namespaced_custom_object(
            GROUP, VERSION, namespace, PLURAL, manifest(policy)
        )
        _mark_synced(policy, created)
        if action.drift:
            _record_drift(policy, None, action.reason)
    elif action.op == Op.UPDATE_IN_CLUSTER:
        current = custom_api.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name)
        replaced = custom_api.replace_namespaced_custom_object(
            GROUP, VERSION, namespace, PLURAL, name, manifest(policy, action.resource_version)
        )
        _mark_synced(policy, replaced)
        if action.drift:
            _record_drift(policy, current.get("spec"), action.reason)
    elif action.op == Op.DELETE_FROM_CLUSTER:
        try:
            custom_api.delete_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name)
        except ApiException as exc:
            if exc.status != 404:
                raise
    elif action.op == Op.IMPORT_FROM_CLUSTER:
        with transaction.atomic():
            Policy.objects.create(
                cluster=cluster,
                namespace=namespace,
                name=name,
                spec=dict(action.spec or {}),
                origin=Origin.CLUSTER,
                governed=False,
                cluster_resource_version=action.resource_version,
                cluster_uid=action.uid,
                cluster_synced_version=1,
                description="Found in the cluster; not written by sgpadmin.",
            )
    elif action.op == Op.UPDATE_FROM_CLUSTER:
        with transaction.atomic():
            policy = _unchanged_since_read(policy)
            policy.spec = dict(action.spec or {})
            with _change_message(action.reason if action.drift else ""):
                policy.save()
            Policy.objects.filter(pk=policy.pk).update(
                cluster_resource_version=action.resource_version,
                cluster_uid=action.uid,
                cluster_synced_version=policy.version,
            )
    elif action.op == Op.DELETE_FROM_DATABASE:
        with transaction.atomic():
            _unchanged_since_read(policy).delete()
    elif action.op == Op.MARK_SYNCED:
        Policy.objects.filter(pk=policy.pk).update(
            cluster_resource_version=action.resource_version,
            cluster_uid=action.uid,
            cluster_synced_version=policy.version,
        )


def _unchanged_since_read(policy: Policy) -> Policy:
    """The policy's row, locked, if it is still the one the plan was made from (same
    version, same governance): a person's edit made while the pass ran is never written over
    or deleted by the cluster's older view."""
    current = (
        Policy.objects.select_for_update()
        .filter(pk=policy.pk, version=policy.version, governed=policy.governed)
        .first()
    )
    if current is None:
        raise ChangedSinceRead(policy.pk)
    return current


def _mark_synced(policy: Policy, written: dict) -> None:
    meta = written.get("metadata") or {}
    Policy.objects.filter(pk=policy.pk).update(
        cluster_resource_version=str(meta.get("resourceVersion", "")),
        cluster_uid=str(meta.get("uid", "")),
        cluster_synced_version=policy.version,
    )


@contextlib.contextmanager
def _change_message(reason: str):
    """Label the change records written inside the block as drift, when there is drift."""
    scope = current_scope()
    previous = scope.message
    scope.message = f"drift: {reason}" if reason else previous
    try:
        yield
    finally:
        scope.message = previous


def _record_drift(policy: Policy, cluster_spec, reason: str) -> None:
    """Drift that left the database as it was (restored in the cluster) still leaves a
    change record: before = what the cluster held, after = what it holds now."""
    with _change_message(reason):
        record_change(
            policy,
            ChangeRecord.Action.UPDATE,
            {"cluster_spec": cluster_spec},
            {"cluster_spec": policy.spec},
        )
