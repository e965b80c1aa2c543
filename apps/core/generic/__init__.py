"""The small generic view layer every app's UI is declared with (NetBox's shape, ours in small).

A concrete view sets a queryset, a table or form class and a template; the classes here do
the rest: login, the ``restrict(user, action)`` choke point, htmx partials with
``Vary: HX-Request``, permission-aware actions, edit conflicts and change messages.
"""

from .bulk import BulkDeleteView
from .htmx import PageMixin, htmx_partial, htmx_redirect
from .views import (
    Action,
    ObjectChangelogView,
    ObjectDeleteView,
    ObjectDetailView,
    ObjectEditView,
    ObjectListView,
)

__all__ = [
    "Action",
    "BulkDeleteView",
    "ObjectChangelogView",
    "ObjectDeleteView",
    "ObjectDetailView",
    "ObjectEditView",
    "ObjectListView",
    "PageMixin",
    "htmx_partial",
    "htmx_redirect",
]
