"""Write change records for ChangeLoggedModel writes (connected in apps.audit.signals)."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType

from apps.core.context import current_scope

from .models import ChangeRecord


def record_change(instance, action: str, before: dict | None, after: dict | None) -> ChangeRecord | None:
    """Record one change to ``instance`` under the current change scope.

    An update that changes nothing an auditor sees is not recorded.
    """
    if action == ChangeRecord.Action.UPDATE and before == after:
        return None
    scope = current_scope()
    user, actor_name = scope.actor()
    cluster, namespace = instance.audit_scope()
    return ChangeRecord.objects.create(
        request_id=scope.request_id,
        user=user,
        actor_name=actor_name,
        context=scope.context,
        action=action,
        object_type=ContentType.objects.get_for_model(instance, for_concrete_model=True),
        object_id=str(instance.pk),
        object_repr=str(instance)[:300],
        cluster=cluster,
        namespace=namespace,
        before=before,
        after=after,
        message=scope.message[:500],
        ticket_ref=scope.ticket_ref[:100],
    )
