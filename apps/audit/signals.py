"""Signal receivers that turn every ChangeLoggedModel write into a ChangeRecord."""

from __future__ import annotations

from django.db.models.signals import post_save, pre_delete, pre_save
from django.dispatch import receiver

from apps.core.models import ChangeLoggedModel

from .models import ChangeRecord
from .recording import record_change


def _is_logged(sender) -> bool:
    return isinstance(sender, type) and issubclass(sender, ChangeLoggedModel)


@receiver(pre_save)
def snapshot_before_save(sender, instance, raw=False, **kwargs):
    if raw or not _is_logged(sender):
        return
    if getattr(instance, "_audit_before", None) is not None or instance.pk is None:
        return
    previous = sender._base_manager.filter(pk=instance.pk).first()
    instance._audit_before = previous.audit_data() if previous is not None else None


@receiver(post_save)
def record_save(sender, instance, created, raw=False, **kwargs):
    if raw or not _is_logged(sender):
        return
    before = None if created else getattr(instance, "_audit_before", None)
    action = ChangeRecord.Action.CREATE if created or before is None else ChangeRecord.Action.UPDATE
    record_change(instance, action, before, instance.audit_data())
    instance._audit_before = None


@receiver(pre_delete)
def record_delete(sender, instance, **kwargs):
    if not _is_logged(sender):
        return
    record_change(instance, ChangeRecord.Action.DELETE, instance.audit_data(), None)
