from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    label = "accounts"

    def ready(self) -> None:
        from . import signals  # noqa: F401  (authentication events to the log)
        from .api import schema  # noqa: F401  (registers the bearer-token OpenAPI scheme)
