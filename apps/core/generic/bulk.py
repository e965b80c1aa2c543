"""Bulk delete with a confirmation page (NetBox's two-step shape).

The list posts the ticked ``pk`` values, or ``_all`` with the list's filter query. The
first POST shows what would be deleted; the confirmation posts the resolved ids back with
``_confirm`` and they are deleted in one transaction, each re-checked against the user's
``delete`` scope, under one request id and change message.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import QueryDict
from django.urls import reverse
from django.views import View

from apps.accounts.scoping import user_can
from apps.core.context import set_change_message

from .htmx import PageMixin, htmx_redirect


class BulkDeleteView(PageMixin, View):
    queryset = None
    filterset_class = None
    template_name = "generic/bulk_delete.html"
    list_url_name = ""

    def selected(self):
        queryset = self.queryset.restrict(self.request.user, "delete")
        data = self.request.POST
        if data.get("_all") and "_confirm" not in data:
            if self.filterset_class is None:
                return queryset
            query = QueryDict(data.get("_query", ""))
            filterset = self.filterset_class(query or None, queryset=queryset, request=self.request)
            return (
                filterset.qs if not filterset.is_bound or filterset.is_valid() else queryset.none()
            )
        ids = [value for value in data.getlist("pk") if value.isdigit()]
        return queryset.filter(pk__in=ids)

    def get_extra_context(self, objects) -> dict:
        return {}

    def post(self, request):
        if not user_can(request.user, "delete"):
            raise PermissionDenied("You may not delete objects here.")
        objects = list(self.selected())
        list_url = reverse(self.list_url_name)
        if not objects:
            messages.warning(request, "Nothing selected that you may delete.")
            return htmx_redirect(request, list_url)
        if "_confirm" not in request.POST:
            context = {"objects": objects, "cancel_url": list_url}
            context.update(self.get_extra_context(objects))
            return self.render(context)
        with transaction.atomic():
            set_change_message(
                request.POST.get("changelog_message", ""), request.POST.get("ticket_ref", "")
            )
            for obj in objects:
                obj.delete()
        messages.success(
            request, f"Deleted {len(objects)} object{'s' if len(objects) != 1 else ''}."
        )
        return htmx_redirect(request, list_url)
