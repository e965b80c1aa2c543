"""Celery tasks of the core app (found by the Celery app's autodiscovery)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from .jobs.runner import run_job

__all__ = ["heartbeat", "heartbeat_record_path", "purge_expired_idempotency_keys", "run_job"]


def heartbeat_record_path() -> Path:
    """Where the last heartbeat task run is recorded (under ``SGPADMIN_VAR_DIR``)."""
    return Path(settings.VAR_DIR) / "worker" / "last-heartbeat.json"


@shared_task(name="core.heartbeat", ignore_result=False)
def heartbeat(note: str = "") -> dict:
    """Record that a worker ran a task just now; return who, when, and ``note``.

    Beat sends it periodically, so the record's age tells an operator whether the whole
    path (beat -> broker -> worker) is moving; tests send it to prove a worker runs tasks.
    """
    record = {
        "worker": heartbeat.request.hostname or "",
        "pid": os.getpid(),
        "at": timezone.now().isoformat(),
        "note": note,
    }
    path = heartbeat_record_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    partial.write_text(json.dumps(record))
    partial.replace(path)  # atomic: a reader never sees half a record
    return record


@shared_task(name="core.purge_expired_idempotency_keys")
def purge_expired_idempotency_keys() -> int:
    """Forget stored answers to ``Idempotency-Key`` requests once their time is up."""
    from .models import IdempotencyKey

    deleted, _ = IdempotencyKey.objects.filter(expires__lte=timezone.now()).delete()
    return deleted
