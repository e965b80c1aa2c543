"""The import endpoint's work: parse, check scope per document, then import all or none."""

from __future__ import annotations

from dataclasses import dataclass, field

from apps.accounts.scoping import user_can
from apps.core.context import set_change_message

from ..models import Origin, Policy
from ..services import import_policies
from ..yaml_io import DocumentError, parse_manifests


@dataclass
class ImportOutcome:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: list[DocumentError] = field(default_factory=list)
    warnings: dict[str, list[str]] = field(default_factory=dict)


def import_manifests(user, cluster, text: str, message: str = "", ticket_ref: str = "") -> ImportOutcome:
    """Create or update every policy of ``text`` in ``cluster``; nothing if any is refused.

    A document is refused when it is invalid (see :func:`parse_manifests`) or when the
    user's roles do not allow adding or changing policies in its namespace.
    """
    parsed, errors = parse_manifests(text)
    outcome = ImportOutcome(errors=list(errors))
    if not parsed and not errors:
        outcome.errors.append(DocumentError(1, "the upload holds no SecurityGroupPolicy"))
    existing = set(
        Policy.objects.filter(
            cluster=cluster, namespace__in={p.namespace for p in parsed}
        ).values_list("namespace", "name")
    )
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
    for policy in import_policies(cluster, parsed, origin=Origin.IMPORT):
        getattr(outcome, policy.import_outcome).append(f"{policy.namespace}/{policy.name}")
    for document in parsed:
        for path, messages in document.warnings.items():
            outcome.warnings.setdefault(f"document {document.document}: {path}", []).extend(messages)
    return outcome
