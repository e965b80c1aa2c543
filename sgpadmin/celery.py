"""The Celery application shared by the web process and the workers."""

from __future__ import annotations

import os
from pathlib import Path

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sgpadmin.settings")

app = Celery("sgpadmin")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


_folders_made = False


def _make_embedded_broker_folders() -> None:
    """The serverless broker and result store live under VAR_DIR: make sure they exist
    before any process (web or worker) sends or consumes a task."""
    global _folders_made
    from django.conf import settings

    if _folders_made or not settings.configured or settings.REDIS_URL:
        return
    Path(settings.VAR_DIR).mkdir(parents=True, exist_ok=True)
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        folder = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get(key)
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
    _folders_made = True


@signals.import_modules.connect
def _on_import_modules(**_kwargs) -> None:
    _make_embedded_broker_folders()


@signals.before_task_publish.connect
def _before_publish(**_kwargs) -> None:
    _make_embedded_broker_folders()
