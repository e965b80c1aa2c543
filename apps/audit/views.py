"""Audit pages: the change log grouped by request with side-by-side diffs, and the
point-in-time lookup of who held an IP or ENI."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.views import View

from apps.core.generic import PageMixin
from apps.core.generic.diff import attach_diffs
from apps.inventory.filtersets import AttachmentFilterSet
from apps.inventory.models import Attachment

from .filtersets import ChangeRecordFilterSet
from .forms import PointInTimeForm
from .models import ChangeRecord


class ChangeListView(PageMixin, View):
    template_name = "audit/change_list.html"
    partial_template_name = "htmx/change_list.html"
    nav_section = "audit"
    title = "Change log"
    per_page = 50

    def get(self, request):
        records = ChangeRecord.objects.restrict(request.user, "view").select_related("object_type")
        filterset = ChangeRecordFilterSet(request.GET or None, queryset=records, request=request)
        if filterset.is_bound and not filterset.is_valid():
            records = records.none()
        else:
            records = filterset.qs
        page = Paginator(records.order_by("-time", "-id"), self.per_page).get_page(
            request.GET.get("page")
        )
        query = request.GET.copy()
        query.pop("page", None)
        return self.render(
            {
                "page": page,
                "records": attach_diffs(page.object_list, changed_only=True),
                "filter_form": filterset.form,
                "querystring": query.urlencode(),
                "list_url": request.path,
            }
        )


class PointInTimeView(PageMixin, View):
    """ "Who held IP x (or ENI y) at time t": pod, namespace, node, groups and interval."""

    template_name = "audit/point_in_time.html"
    partial_template_name = "htmx/point_in_time.html"
    nav_section = "audit"
    title = "Who held it?"

    def get(self, request):
        form = PointInTimeForm(request.GET or None)
        context = {"form": form, "searched": False}
        if form.is_bound and form.is_valid():
            attachments = Attachment.objects.restrict(request.user, "view").select_related(
                "cluster"
            )
            filterset = AttachmentFilterSet(
                form.filter_params(), queryset=attachments, request=request
            )
            context["searched"] = True
            context["results"] = (
                list(filterset.qs.order_by("-since")[:50]) if filterset.is_valid() else []
            )
        return self.render(context)
