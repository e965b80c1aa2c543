"""Everything under /api/: each app's ``api/urls.py``, mounted side by side.

Apps whose API module is optional (written by other parts of the project) are included
when present, so the router never refers to a module that does not exist yet.
"""

from __future__ import annotations

from importlib.util import find_spec

from django.urls import include, path

API_MODULES = [
    "apps.policies.api.urls",
    "apps.inventory.api.report_urls",
    "apps.inventory.api.urls",
    "apps.audit.api.urls",
    "apps.accounts.api.urls",
    "apps.controller.api.urls",
    "apps.webhooks.api.urls",
]

urlpatterns = [
    path("", include(module)) for module in API_MODULES if find_spec(module) is not None
]
