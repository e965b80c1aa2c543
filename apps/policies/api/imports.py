"""Importing SecurityGroupPolicy manifests: all documents or none, errors per document."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction

from apps.accounts.scoping import user_can
from apps.core.context import set_change_message

from ..models import Origin, Policy
from ..yaml_io import DocumentError, ParsedPolicy, parse_manifests


@dataclass
class ImportOutcome:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: list[DocumentError] = field(default_factory=list)
    warnings: dict[str, list[str]] = field(default_factory=dict)


def import_manifests(user, cluster, text: str, message: str = "", ticket_ref: str = "") -> ImportOutcome:
    """Create or update every policy in ``text`` in ``cluster``; nothing when any fails.

    A policy that exists (same namespace and name) is updated when its spec differs.
    """
    parsed, errors = parse_manifests(text)
    outcome = ImportOutcome(errors=list(errors))
    if not parsed and not errors:
        outcome.errors.append(DocumentError(1, "the upload holds no SecurityGroupPolicy"))
    existing = {
        (p.namespace, p.name): p
        for p in Policy.objects.filter(cluster=cluster, namespace__in={p.namespace for p in parsed})
    }
    for policy in parsed:
        action = "change" if (policy.namespace, policy.name) in existing else "add"
        if not user_can(user, action, cluster.name, policy.namespace):
            outcome.errors.append(
                DocumentError(
                    policy.document,
                    f"your roles do not allow you to {action} policies in "
                    f"{cluster.name}/{policy.namespace}",
                    "metadata.namespace",
                    policy.line,
                )
            )
    if outcome.errors:
        outcome.errors.sort(key=lambda e: (e.document, e.line or 0))
        return outcome
    set_change_message(message, ticket_ref)
    with transaction.atomic():
        for policy in parsed:
            _apply(cluster, policy, existing.get((policy.namespace, policy.name)), outcome)
    return outcome


def _apply(cluster, parsed: ParsedPolicy, current: Policy | None, outcome: ImportOutcome) -> None:
    label = f"{parsed.namespace}/{parsed.name}"
    for path, messages in parsed.warnings.items():
        outcome.warnings.setdefault(f"document {parsed.document}: {path}", []).extend(messages)
    if current is None:
        Policy.objects.create(
            cluster=cluster,
            namespace=parsed.namespace,
            name=parsed.name,
            spec=parsed.spec,
            origin=Origin.IMPORT,
        )
        outcome.created.append(label)
    elif current.spec != parsed.spec:
        current.spec = parsed.spec
        current.save()
        outcome.updated.append(label)
    else:
        outcome.unchanged.append(label)
