from django.apps import AppConfig


class ControllerConfig(AppConfig):
    name = "apps.controller"
    label = "controller"

    def ready(self) -> None:
        # Celery's autodiscovery finds only ``tasks``; the branch lifecycle's tasks (and its
        # worker_ready resync) live in their own module.
        from apps.controller import tasks_lifecycle  # noqa: F401
