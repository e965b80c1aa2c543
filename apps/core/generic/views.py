"""Generic list, detail, edit, delete and changelog views."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views import View
from django_tables2 import RequestConfig

from apps.accounts.scoping import user_can
from apps.core.context import set_change_message

from .diff import attach_diffs
from .forms import EditConflict
from .htmx import PageMixin, htmx_redirect


@dataclass(frozen=True)
class Action:
    """A button: shown only when the user may perform ``action`` (on the object, if any)."""

    label: str
    url_name: str
    action: str = "view"
    style: str = ""
    per_object: bool = False  # the URL takes the object's pk


class OutOfScope(Exception):
    """A saved object fell outside what the user may change; the transaction rolls back."""


def permitted_list_actions(user, actions) -> list[dict]:
    return [
        {"label": a.label, "url": reverse(a.url_name), "style": a.style}
        for a in actions
        if user_can(user, a.action)
    ]


class ObjectListView(PageMixin, View):
    queryset = None
    filterset_class = None
    table_class = None
    template_name = "generic/object_list.html"
    partial_template_name = "htmx/table.html"
    actions: tuple[Action, ...] = ()
    export_formats: tuple[str, ...] = ()
    bulk_delete_url_name = ""  # tables with a "select" column offer bulk delete to deleters
    per_page = 25

    def get_queryset(self):
        return self.queryset.restrict(self.request.user, "view")

    def filter_queryset(self, queryset):
        if self.filterset_class is None:
            return queryset, None
        filterset = self.filterset_class(
            self.request.GET or None, queryset=queryset, request=self.request
        )
        if filterset.is_bound and not filterset.is_valid():
            return queryset.none(), filterset
        return filterset.qs, filterset

    def export(self, fmt: str, queryset):  # pragma: no cover - views with export_formats override
        raise NotImplementedError

    def get_extra_context(self) -> dict:
        return {}

    def get(self, request, *args, **kwargs):
        queryset, filterset = self.filter_queryset(self.get_queryset())
        fmt = request.GET.get("export")
        if fmt in self.export_formats:
            return self.export(fmt, queryset)
        bulk = bool(self.bulk_delete_url_name) and user_can(request.user, "delete")
        table = self.table_class(queryset, request=request, exclude=() if bulk else ("select",))
        table.htmx_target = "#object-table"
        RequestConfig(request, paginate={"per_page": self.per_page}).configure(table)
        query = request.GET.copy()
        query.pop("page", None)
        context = {
            "table": table,
            "filter_form": filterset.form if filterset is not None else None,
            "actions": permitted_list_actions(request.user, self.actions),
            "export_formats": self.export_formats,
            "querystring": query.urlencode(),
            "list_url": request.path,
            "bulk_delete_url": reverse(self.bulk_delete_url_name) if bulk else "",
            **self.get_extra_context(),
        }
        return self.render(context)


class ObjectMixin:
    queryset = None
    object_actions: tuple[Action, ...] = ()

    def get_object(self, action: str = "view"):
        return get_object_or_404(
            self.queryset.restrict(self.request.user, action), pk=self.kwargs["pk"]
        )

    def permits(self, obj, action: str) -> bool:
        return self.queryset.restrict(self.request.user, action).filter(pk=obj.pk).exists()

    def permitted_object_actions(self, obj) -> list[dict]:
        return [
            {"label": a.label, "url": reverse(a.url_name, kwargs={"pk": obj.pk}), "style": a.style}
            for a in self.object_actions
            if self.permits(obj, a.action)
        ]


class ObjectDetailView(ObjectMixin, PageMixin, View):
    def get_extra_context(self, obj) -> dict:
        return {}

    def get(self, request, *args, **kwargs):
        obj = self.get_object()
        context = {"object": obj, "actions": self.permitted_object_actions(obj)}
        context.update(self.get_extra_context(obj))
        return self.render(context)


class ObjectEditView(ObjectMixin, PageMixin, View):
    """Create (no ``pk``) or change an object, recheck its scope after save, catch conflicts."""

    form_class = None
    template_name = "generic/object_edit.html"
    detail_url_name = ""

    def get_existing(self):
        if "pk" in self.kwargs:
            return self.get_object("change")
        if not user_can(self.request.user, "add"):
            raise PermissionDenied("You may not add objects here.")
        return None

    def get_form(self, instance, data=None):
        return self.form_class(data=data, instance=instance, user=self.request.user)

    def get_extra_context(self, form, instance) -> dict:
        return {}

    def page(self, form, instance, status=200, conflict=None):
        context = {"form": form, "object": instance, "conflict": conflict}
        context.update(self.get_extra_context(form, instance))
        return self.render(context, status=status)

    def get(self, request, *args, **kwargs):
        instance = self.get_existing()
        return self.page(self.get_form(instance), instance)

    def post(self, request, *args, **kwargs):
        instance = self.get_existing()
        form = self.get_form(instance, data=request.POST)
        if not form.is_valid():
            return self.page(form, instance)
        action = "add" if instance is None else "change"
        try:
            with transaction.atomic():
                data = form.cleaned_data
                set_change_message(data.get("changelog_message", ""), data.get("ticket_ref", ""))
                obj = form.save()
                if not self.permits(obj, action):
                    raise OutOfScope
        except EditConflict as conflict:
            return self.page(form, instance, status=409, conflict=conflict)
        except OutOfScope:
            form.add_error(None, "You may not save an object in that cluster and namespace.")
            return self.page(form, instance, status=403)
        messages.success(request, f"Saved {obj}.")
        return htmx_redirect(request, reverse(self.detail_url_name, kwargs={"pk": obj.pk}))


class ObjectDeleteView(ObjectMixin, PageMixin, View):
    template_name = "generic/object_delete.html"
    success_url_name = ""

    def get_extra_context(self, obj) -> dict:
        return {}

    def get(self, request, *args, **kwargs):
        obj = self.get_object("delete")
        return self.render({"object": obj, **self.get_extra_context(obj)})

    def post(self, request, *args, **kwargs):
        obj = self.get_object("delete")
        label = str(obj)
        with transaction.atomic():
            set_change_message(
                request.POST.get("changelog_message", ""), request.POST.get("ticket_ref", "")
            )
            obj.delete()
        messages.success(request, f"Deleted {label}.")
        return htmx_redirect(request, reverse(self.success_url_name))


class ObjectChangelogView(ObjectMixin, PageMixin, View):
    """The change records of one object, newest first (a tab or an htmx-loaded panel)."""

    template_name = "generic/object_changelog.html"
    partial_template_name = "htmx/changelog.html"
    limit = 50

    def get(self, request, *args, **kwargs):
        from apps.audit.models import ChangeRecord

        obj = self.get_object()
        records = (
            ChangeRecord.objects.restrict(request.user, "view")
            .filter(
                object_type=ContentType.objects.get_for_model(obj, for_concrete_model=True),
                object_id=str(obj.pk),
            )
            .order_by("-time", "-id")[: self.limit]
        )
        return self.render({"object": obj, "records": attach_diffs(records, changed_only=True)})
