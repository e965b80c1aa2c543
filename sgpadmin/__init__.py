"""sgpadmin: security groups for Kubernetes pods on EC2, governed."""

from .celery import app as celery_app

__all__ = ["celery_app"]
