"""Policy writes shared by the API, the UI and the worker."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from django.core.exceptions import ValidationError
from django.db import transaction

from apps.inventory.models import Cluster

from .models import Origin, Policy
from .validation import validate_policy


class PolicyDocument(Protocol):
    """What :func:`import_policies` reads from each document (e.g. a ParsedPolicy)."""

    namespace: str
    name: str
    spec: Mapping[str, Any]


class ImportOutcome:
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


def import_policies(
    cluster: Cluster, documents: Iterable[PolicyDocument], *, origin: str = Origin.IMPORT
) -> list[Policy]:
    """Create or update one policy per document in ``cluster``, all or nothing.

    Each returned policy carries ``import_outcome`` (created, updated or unchanged). A
    policy whose spec is already the one imported is left untouched (no new version,
    no change record). Raises ``ValidationError`` (nothing written) if any document is
    invalid or two documents name the same policy; each error is keyed
    ``documents[<index>].<field path>``.
    """
    documents = list(documents)
    if origin not in Origin.values:
        raise ValueError(f"origin {origin!r}: use one of {', '.join(Origin.values)}")
    _check_documents(documents)
    with transaction.atomic():
        existing = {
            (p.namespace, p.name): p
            for p in Policy.objects.select_for_update().filter(
                cluster=cluster,
                namespace__in={d.namespace for d in documents},
                name__in={d.name for d in documents},
            )
        }
        result = []
        for document in documents:
            spec = dict(document.spec)
            policy = existing.get((document.namespace, document.name))
            if policy is None:
                policy = Policy(
                    cluster=cluster,
                    namespace=document.namespace,
                    name=document.name,
                    spec=spec,
                    origin=origin,
                    # Found in the cluster: observed until a person edits it here.
                    governed=origin != Origin.CLUSTER,
                )
                policy.save()
                policy.import_outcome = ImportOutcome.CREATED
            elif policy.spec != spec:
                policy.spec = spec
                # A person's import (the API's, or the UI's run as a background job in the
                # worker context) makes sgpadmin the source of truth, as an edit does:
                # otherwise the next sync would copy the cluster's spec back over it.
                policy.governed = policy.governed or origin != Origin.CLUSTER
                policy.save()
                policy.import_outcome = ImportOutcome.UPDATED
            else:
                policy.import_outcome = ImportOutcome.UNCHANGED
            result.append(policy)
    return result


def _check_documents(documents: list[PolicyDocument]) -> None:
    errors: dict[str, list[str]] = {}
    first_index: dict[tuple[str, str], int] = {}
    for index, document in enumerate(documents):
        report = validate_policy(document.namespace, document.name, document.spec)
        for path, messages in report.errors.items():
            errors.setdefault(f"documents[{index}].{path}", []).extend(messages)
        key = (document.namespace, document.name)
        if key in first_index:
            errors.setdefault(f"documents[{index}].name", []).append(
                f"{key[0]}/{key[1]} is also document {first_index[key]}"
            )
        first_index.setdefault(key, index)
    if errors:
        raise ValidationError(errors)
