"""Querysets with the one permission choke point, ``restrict(user, action)``."""

from __future__ import annotations

from django.db import models


class ScopedQuerySet(models.QuerySet):
    """A queryset whose rows belong to a cluster (and maybe a namespace).

    The model names the lookup paths in ``scope_cluster_field`` and
    ``scope_namespace_field``; :func:`apps.accounts.scoping.restrict_queryset`
    applies the user's role bindings to them.
    """

    def restrict(self, user, action: str = "view"):
        from apps.accounts.scoping import restrict_queryset

        model = self.model
        return restrict_queryset(
            self,
            user,
            action,
            cluster_field=model.scope_cluster_field,
            namespace_field=model.scope_namespace_field,
        )
