"""Policy background jobs (run through apps.core.jobs)."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from apps.accounts.scoping import user_can
from apps.core.context import set_change_message
from apps.core.jobs.runner import JobContext, JobFailed, job_kind
from apps.inventory.models import Cluster

from .services import import_policies
from .yaml_io import parse_manifests

BATCH_SIZE = 25


@job_kind
def import_yaml(
    context: JobContext, cluster_id: int, text: str, message: str = "", ticket_ref: str = ""
) -> dict:
    """Import a YAML upload: every document is checked first; nothing is written unless
    all are valid and the user may add policies in each namespace. Policies are then
    written in batches, so the progress bar moves on large uploads."""
    cluster = Cluster.objects.get(pk=cluster_id)
    policies, errors = parse_manifests(text)
    context.log(
        f"Read {len(policies)} valid polic{'y' if len(policies) == 1 else 'ies'} "
        f"and {len(errors)} error(s)."
    )
    user = context.job.user
    for policy in policies:
        if user is not None and not user_can(user, "add", cluster.name, policy.namespace):
            errors.append(
                f"document {policy.document}: you may not add policies in "
                f"{cluster.name}/{policy.namespace}"
            )
    for error in errors:
        context.log(str(error), "error")
    if errors:
        raise JobFailed(f"{len(errors)} document error(s); nothing was imported.")
    set_change_message(message or f"YAML import of {len(policies)} policies", ticket_ref)
    context.progress(0, total=len(policies))
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for start in range(0, len(policies), BATCH_SIZE):
        batch = policies[start : start + BATCH_SIZE]
        try:
            written = import_policies(cluster, batch)
        except ValidationError as exc:  # changed under us since parsing: stop here
            raise JobFailed(f"batch at document {batch[0].document} refused: {exc}") from exc
        for policy in written:
            counts[policy.import_outcome] += 1
            context.log(f"{policy.import_outcome} {policy.namespace}/{policy.name}")
        context.progress(start + len(batch))
    context.log("Import finished: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
    return counts
