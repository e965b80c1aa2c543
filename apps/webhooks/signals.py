"""Writes that change a webhook answer bump the version stamps (see :mod:`.cache`)."""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save

from .cache import invalidate_cluster_list, invalidate_webhook_cache


def _policy_or_account_changed(sender, instance, raw=False, **kwargs):
    if raw or instance.cluster_id is None:
        return
    invalidate_webhook_cache(instance.cluster_id)


def _cluster_changed(sender, instance, raw=False, **kwargs):
    if raw:
        return
    invalidate_cluster_list()
    if instance.pk is not None:
        invalidate_webhook_cache(instance.pk)


def connect() -> None:
    from apps.inventory.models import Cluster, ServiceAccount
    from apps.policies.models import Policy

    for model in (Policy, ServiceAccount):
        uid = f"webhooks-{model._meta.label_lower}"
        post_save.connect(_policy_or_account_changed, sender=model, dispatch_uid=uid + "-save")
        post_delete.connect(_policy_or_account_changed, sender=model, dispatch_uid=uid + "-delete")
    post_save.connect(_cluster_changed, sender=Cluster, dispatch_uid="webhooks-cluster-save")
    post_delete.connect(_cluster_changed, sender=Cluster, dispatch_uid="webhooks-cluster-delete")
