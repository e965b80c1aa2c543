"""Enqueue a job, run it in a Celery worker, record progress, log lines and the result."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from celery import shared_task
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from apps.core.context import ChangeContext, change_scope

from .models import Job, JobLogEntry

logger = logging.getLogger(__name__)
JOB_MARK = "_sgpadmin_job_kind"


class JobFailed(Exception):
    """Raised by a job function to fail with a message meant for the user (no traceback)."""


def job_kind(function: Callable) -> Callable:
    """Mark ``function(context, **params)`` as runnable through :func:`enqueue`."""
    setattr(function, JOB_MARK, True)
    return function


def _path_of(function: Callable) -> str:
    return f"{function.__module__}.{function.__qualname__}"


def resolve(kind: str) -> Callable:
    function = import_string(kind)
    if not getattr(function, JOB_MARK, False):
        raise ValueError(f"{kind} is not a job kind")
    return function


class JobContext:
    """What a running job function uses to report: log lines and progress."""

    def __init__(self, job: Job):
        self.job = job

    def log(self, message: str, level: str = JobLogEntry.Level.INFO) -> None:
        JobLogEntry.objects.create(job=self.job, level=level, message=message)

    def progress(self, done: int, total: int | None = None) -> None:
        self.job.progress_done = done
        fields = ["progress_done"]
        if total is not None:
            self.job.progress_total = total
            fields.append("progress_total")
        self.job.save(update_fields=fields)


def enqueue(
    function: Callable, *, title: str, user=None, cluster: str = "", request_id=None, **params: Any
) -> Job:
    """Create the job row and queue its run once the current transaction commits."""
    if not getattr(function, JOB_MARK, False):
        raise ValueError(f"{_path_of(function)} is not a job kind")
    job = Job.objects.create(
        kind=_path_of(function),
        title=title[:200],
        user=user,
        cluster=cluster,
        request_id=request_id,
        params=params,
    )
    transaction.on_commit(lambda: run_job.delay(str(job.pk)))
    return job


def execute(job_id: str) -> Job:
    """Run a pending job to its end; the job's own errors are recorded, not raised."""
    job = Job.objects.select_related("user").get(pk=job_id)
    if job.status != Job.Status.PENDING:
        return job
    job.status, job.started = Job.Status.RUNNING, timezone.now()
    job.save(update_fields=["status", "started"])
    context = JobContext(job)
    scope = {"context": ChangeContext.WORKER, "user": job.user}
    if job.request_id:
        scope["request_id"] = job.request_id
    try:
        function = resolve(job.kind)
        with change_scope(**scope):
            result = function(context, **job.params)
    except JobFailed as exc:
        job.status, job.error = Job.Status.FAILED, str(exc)
        context.log(str(exc), JobLogEntry.Level.ERROR)
    except Exception as exc:  # a bug or an outage: keep the worker alive, tell the user
        logger.exception("job %s (%s) failed", job.pk, job.kind)
        job.status, job.error = Job.Status.FAILED, f"{type(exc).__name__}: {exc}"
        context.log(job.error, JobLogEntry.Level.ERROR)
    else:
        job.status, job.result = Job.Status.SUCCEEDED, result
    job.finished = timezone.now()
    job.save(update_fields=["status", "error", "result", "finished"])
    return job


@shared_task(name="core.run_job")
def run_job(job_id: str) -> str:
    return execute(job_id).status
