"""The one place where roles turn into row visibility: ``restrict_queryset``.

Used by every queryset's ``restrict(user, action)``, and so by the UI and the API alike.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from .models import ROLE_ACTIONS


def bindings_for(user):
    cache = getattr(user, "_sgp_bindings", None)
    if cache is None:
        cache = list(user.role_bindings.select_related("cluster"))
        user._sgp_bindings = cache
    return cache


def user_can(user, action: str, cluster: str | None = None, namespace: str | None = None) -> bool:
    """May ``user`` do ``action`` somewhere in (cluster, namespace)?

    With ``cluster``/``namespace`` left out, "anywhere at all".
    """
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    for binding in bindings_for(user):
        if action not in ROLE_ACTIONS[binding.role]:
            continue
        if cluster is not None and binding.cluster is not None and binding.cluster.name != cluster:
            continue
        if namespace is not None and binding.namespace and binding.namespace != namespace:
            continue
        return True
    return False


def restrict_queryset(
    queryset: QuerySet, user, action: str, *, cluster_field: str | None, namespace_field: str | None
) -> QuerySet:
    """Rows of ``queryset`` on which ``user`` may perform ``action``."""
    if user is None or not user.is_authenticated or not user.is_active:
        return queryset.none()
    if user.is_superuser:
        return queryset
    condition = Q(pk__in=[])
    for binding in bindings_for(user):
        if action not in ROLE_ACTIONS[binding.role]:
            continue
        clause = Q()
        if binding.cluster is not None and cluster_field:
            clause &= Q(**{cluster_field: binding.cluster.name})
        if binding.namespace and namespace_field:
            clause &= Q(**{namespace_field: binding.namespace})
        elif binding.namespace and action != "view":
            # A namespace-scoped role may look at cluster-wide objects (nodes, groups)
            # of its cluster, but never change them.
            continue
        if not clause:
            return queryset  # an unscoped binding: every row (Q() | ... would drop it)
        condition |= clause
    return queryset.filter(condition)
