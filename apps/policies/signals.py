"""Push a policy change to its cluster once the transaction that made it commits."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import Policy


def _queue_sync(instance: Policy, **kwargs) -> None:
    if not settings.SGPADMIN_SYNC_POLICIES_ON_SAVE or kwargs.get("raw"):
        return
    if kwargs.get("update_fields") and set(kwargs["update_fields"]) <= {
        "cluster_resource_version",
        "cluster_uid",
        "cluster_synced_version",
    }:
        return  # the sync's own bookkeeping
    from .tasks import sync_policies

    cluster_id = instance.cluster_id
    transaction.on_commit(lambda: sync_policies.delay(cluster_id))


@receiver(post_save, sender=Policy)
def sync_after_save(sender, instance, **kwargs):
    _queue_sync(instance, **kwargs)


@receiver(post_delete, sender=Policy)
def sync_after_delete(sender, instance, **kwargs):
    _queue_sync(instance, **kwargs)
