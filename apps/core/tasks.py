"""Celery tasks of the core app (found by the Celery app's autodiscovery)."""

from .jobs.runner import run_job

__all__ = ["run_job"]
