"""Controller operations a person starts from the dashboard, run as background jobs
(apps.core.jobs): their page shows progress, log lines and the result."""

from __future__ import annotations

from apps.core.jobs.runner import JobContext, JobFailed, job_kind
from apps.inventory.models import Cluster

from .gc import sweep_cluster
from .resync import resync_cluster


def _cluster(cluster_id: int) -> Cluster:
    cluster = Cluster.objects.filter(pk=cluster_id).first()
    if cluster is None:
        raise JobFailed("the cluster no longer exists")
    return cluster


@job_kind
def resync(context: JobContext, cluster_id: int) -> dict:
    """Rebuild trunk, branch and VLAN state of every node from EC2 tags and pod annotations."""
    cluster = _cluster(cluster_id)
    context.log(f"Resyncing {cluster.name} from EC2 and the cluster.")

    def on_node(index: int, total: int, run) -> None:
        if index == 1:
            context.progress(0, total=total)
        if run.error:
            context.log(f"{run.node_name}: failed: {run.error}", "error")
        elif (run.details or {}).get("skipped"):
            context.log(f"{run.node_name}: skipped ({run.details['skipped']})")
        else:
            counts = (run.details or {}).get("summary", {})
            summary = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()) if v)
            context.log(f"{run.node_name}: {summary or 'nothing to do'}")
        context.progress(index)

    runs = resync_cluster(cluster, on_node=on_node)
    failed = [run.node_name for run in runs if run.error]
    context.log(f"Resync finished: {len(runs)} node(s), {len(failed)} failed.")
    if failed:
        raise JobFailed(f"resync failed on {', '.join(failed)}")
    return {"nodes": len(runs)}


@job_kind
def leak_sweep(context: JobContext, cluster_id: int) -> dict:
    """Delete ``available`` ENIs with our tags that were seen available on the last sweep too."""
    cluster = _cluster(cluster_id)
    context.progress(0, total=1)
    context.log(f"Sweeping {cluster.name}'s VPC {cluster.vpc_id} for leaked branch ENIs.")
    run = sweep_cluster(cluster)
    context.progress(1)
    if run.error:
        raise JobFailed(f"the sweep failed: {run.error}")
    details = run.details or {}
    for eni in details.get("deleted", []):
        context.log(f"deleted {eni}")
    for eni, reason in (details.get("failed") or {}).items():
        context.log(f"could not delete {eni}: {reason}", "warning")
    candidates = details.get("candidates", [])
    if candidates:
        context.log(
            f"{len(candidates)} ENI(s) seen available for the first time; "
            "deleted on the next sweep if still available"
        )
    context.log(f"Sweep finished: {run.found} found, {run.deleted} deleted.")
    return {"found": run.found, "deleted": run.deleted}
