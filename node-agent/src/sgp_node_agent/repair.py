"""One pass of the daemon's repair loop: drop pods that are gone, remove leftovers nobody
owns, re-create missing host-side objects of live pods, and collect each pod's status."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace

from .executor import Executor
from .observe import snapshot_host
from .plan import plan_pod
from .reconcile import (
    PodStatus,
    compare_pod,
    find_leftovers,
    inputs_from_record,
    plan_repair,
    stale_records,
)
from .state import RecordStore, claims_of_others
from .teardown import TeardownPlan, plan_teardown

log = logging.getLogger(__name__)


@dataclass
class PassResult:
    statuses: list[PodStatus] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)  # container id -> last error
    api_error: str = ""
    deleting: list[str] = field(default_factory=list)  # links queued for background deletion
    unreadable: list[str] = field(default_factory=list)  # "<record file>: <reason>"


def live_pod_keys(pods: list[dict]) -> set[str]:
    keys = set()
    for pod in pods:
        meta = pod.get("metadata") or {}
        if meta.get("uid"):
            keys.add(meta["uid"])
        keys.add(f"{meta.get('namespace')}/{meta.get('name')}")
    return keys


def repair_pass(
    executor: Executor,
    store: RecordStore,
    live_pods: list[dict] | None,
    listed_at: float | None = None,
    last_errors: dict[str, str] | None = None,
    deleting: frozenset[str] = frozenset(),
) -> PassResult:
    """``live_pods`` None means the API could not be asked: then no record is dropped;
    ``listed_at`` (time.time() before listing) protects pods plumbed after the listing;
    ``deleting`` names links the daemon is deleting already (not leftovers, reported as such).
    While any record file cannot be read, nothing is removed (the files are reported).
    Run it on the netlink thread."""
    result = PassResult(errors=dict(last_errors or {}), deleting=sorted(deleting))
    unreadable = store.unreadable()  # read first: a file readable again adds its record
    records = store.all()
    result.unreadable = [f"{name}: {reason}" for name, reason in sorted(unreadable.items())]
    if unreadable:
        # An unreadable record's pod is live as far as anyone knows: its link, rules and
        # routes would look like leftovers, and its claims are unknown to a teardown.
        log.warning(
            "record files cannot be read (%s): no pod record or leftover is removed this pass",
            ", ".join(sorted(unreadable)),
        )
    elif live_pods is not None:
        for record in stale_records(records, live_pod_keys(live_pods), listed_at):
            target = record.target()
            others = [r for r in records if r.container_id != record.container_id]
            plan = plan_teardown(
                target, executor.observe_branch(target), claims_of_others(others, "")
            )
            try:
                executor.apply_teardown(plan)
            except Exception as exc:
                result.errors[record.container_id] = str(exc)
                continue
            store.remove(record.container_id)
            records = others
            result.removed.append(
                f"pod {record.pod_namespace}/{record.pod_name} (vlan {record.vlan_id}, container "
                f"{record.container_id}): pod gone or sandbox superseded"
            )
    leftovers = (
        TeardownPlan() if unreadable else find_leftovers(records, snapshot_host(executor), deleting)
    )
    if not leftovers.empty:
        executor.apply_teardown(leftovers)
        result.removed += [f"link {name}" for name in leftovers.delete_links]
        result.removed += [f"rule {rule.describe()}" for rule in leftovers.delete_rules]
        result.removed += [f"route {route.describe()}" for route in leftovers.delete_routes]
    snapshot = snapshot_host(executor)
    for record in records:
        inputs = inputs_from_record(record)
        status = compare_pod(record, snapshot, inputs)
        if status.missing:
            repair = plan_repair(record, snapshot, plan_pod(inputs))
            if not repair.empty:
                try:
                    executor.apply_repair(repair)
                    before = status.missing
                    snapshot = snapshot_host(executor)
                    status = compare_pod(record, snapshot, inputs)
                    result.repaired += [
                        f"{record.container_id}: {item}"
                        for item in before
                        if item not in status.missing
                    ]
                except Exception as exc:
                    result.errors[record.container_id] = f"repair failed: {exc}"
            if repair.kept:  # handed over to a newer pod: reported, never re-created
                status = replace(
                    status,
                    missing=(*status.missing, *(f"not repaired: {k}" for k in repair.kept)),
                )
        result.statuses.append(status)
    for line in result.removed:
        log.info("removed leftover: %s", line)
    return result
