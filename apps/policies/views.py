"""Policy pages: list, detail, add/edit with live preview, delete, YAML import and export."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views import View

from apps.accounts.scoping import user_can
from apps.core.generic import (
    Action,
    BulkDeleteView,
    ObjectChangelogView,
    ObjectDeleteView,
    ObjectDetailView,
    ObjectEditView,
    ObjectListView,
    PageMixin,
)
from apps.core.jobs.runner import enqueue

from . import jobs
from .filtersets import PolicyFilterSet
from .forms import (
    PolicyForm,
    PolicyImportForm,
    SpecInputError,
    fields_can_represent,
    fields_from_spec,
)
from .matching import group_ids_of
from .models import Policy
from .preview import preview_diff, preview_matches
from .tables import PolicyTable
from .yaml_io import render_manifests

POLICIES = Policy.objects.select_related("cluster")


def match_summary(pods: list[dict]) -> dict:
    """Pods from :func:`preview_matches` and the nodes they run on."""
    return {"pods": pods, "nodes": sorted({p["node"] for p in pods if p["node"]})}


def matches_now(policy: Policy) -> dict:
    return match_summary(preview_matches(policy.cluster, policy.namespace, policy.spec))


class PolicyListView(ObjectListView):
    queryset = POLICIES
    filterset_class = PolicyFilterSet
    table_class = PolicyTable
    title = "Security group policies"
    nav_section = "policies"
    actions = (
        Action("Add policy", "policies:policy_add", "add", "btn-primary"),
        Action("Import YAML", "policies:policy_import", "add"),
    )
    export_formats = ("yaml",)
    bulk_delete_url_name = "policies:policy_bulk_delete"

    def export(self, fmt, queryset):
        response = HttpResponse(render_manifests(queryset), content_type="application/yaml")
        response["Content-Disposition"] = 'attachment; filename="securitygrouppolicies.yaml"'
        return response


class PolicyDetailView(ObjectDetailView):
    queryset = POLICIES
    template_name = "policies/policy_detail.html"
    nav_section = "policies"
    object_actions = (
        Action("Edit", "policies:policy_edit", "change", "btn-primary"),
        Action("Delete", "policies:policy_delete", "delete", "btn-danger"),
    )

    def get_extra_context(self, obj):
        return {"manifest": render_manifests([obj]), "matches": matches_now(obj)}


class PolicyEditView(ObjectEditView):
    queryset = POLICIES
    form_class = PolicyForm
    template_name = "policies/policy_edit.html"
    detail_url_name = "policies:policy_detail"
    nav_section = "policies"
    title = "Add a security group policy"

    def get_extra_context(self, form, instance):
        if instance is None:
            return {
                "preview_url": reverse("policies:policy_preview"),
                "switch_url": reverse("policies:policy_spec_editor"),
            }
        return {
            "preview_url": reverse("policies:policy_edit_preview", kwargs={"pk": instance.pk}),
            "switch_url": reverse("policies:policy_spec_editor"),
        }


class PolicySpecEditorView(PageMixin, View):
    """Switch the spec editor between fields and YAML, carrying over what was typed."""

    template_name = "policies/inc/spec_editor.html"

    def post(self, request):
        if not user_can(request.user, "add") and not user_can(request.user, "change"):
            raise PermissionDenied
        bound = PolicyForm(data=request.POST, user=request.user)
        target = "yaml" if request.POST.get("switch_to") == "yaml" else "fields"
        try:
            spec = bound.build_spec(request.POST)
        except SpecInputError as exc:
            return self.render(
                {"form": bound, "switch_error": exc.message, "switch_url": request.path}
            )
        if target == "fields" and not fields_can_represent(spec):
            return self.render(
                {
                    "form": bound,
                    "switch_url": request.path,
                    "switch_error": (
                        "This spec has parts the fields cannot show; keep editing it as YAML."
                    ),
                }
            )
        form = PolicyForm(
            initial={**fields_from_spec(spec), "edit_mode": target}, user=request.user
        )
        return self.render({"form": form, "switch_url": request.path})


class PolicyPreviewView(PageMixin, View):
    """What the form being typed would select, and what changes against the saved version.

    Answers the htmx preview requests of the edit page (an htmx fragment; never saves).
    """

    template_name = "htmx/policy_preview.html"

    def post(self, request, pk=None):
        instance = None
        if pk is not None:
            instance = POLICIES.restrict(request.user, "change").filter(pk=pk).first()
            if instance is None:
                raise PermissionDenied
        elif not user_can(request.user, "add"):
            raise PermissionDenied
        form = PolicyForm(data=request.POST, instance=instance, user=request.user)
        form.full_clean()
        context = {"form": form}
        try:
            spec = form.build_spec(request.POST)
        except SpecInputError as exc:
            context["input_error"] = exc.message
            return self.render(context)
        cluster = instance.cluster if instance else form.cleaned_data.get("cluster")
        namespace = instance.namespace if instance else form.cleaned_data.get("namespace")
        context["spec_errors"] = {
            k: v for k, v in form.errors.items() if k not in ("namespace", "name")
        }
        if cluster is None or not namespace:
            return self.render(context)
        if not user_can(request.user, "view", cluster.name, namespace):
            context["out_of_scope"] = True  # never show pods the user may not see
            return self.render(context)
        context["matches"] = match_summary(preview_matches(cluster, namespace, spec))
        context["no_groups"] = not group_ids_of(spec)
        proposed = instance or Policy(
            cluster=cluster, namespace=namespace, name=form.data.get("name", "")
        )
        context["diff"] = preview_diff(proposed, spec)
        context["is_new"] = instance is None
        return self.render(context)


class PolicyDeleteView(ObjectDeleteView):
    queryset = POLICIES
    template_name = "policies/policy_delete.html"
    success_url_name = "policies:policy_list"
    nav_section = "policies"

    def get_extra_context(self, obj):
        return {
            "matches": matches_now(obj),
            "cancel_url": reverse("policies:policy_detail", kwargs={"pk": obj.pk}),
        }


class PolicyBulkDeleteView(BulkDeleteView):
    queryset = POLICIES
    filterset_class = PolicyFilterSet
    template_name = "policies/policy_bulk_delete.html"
    list_url_name = "policies:policy_list"
    nav_section = "policies"

    def get_extra_context(self, objects):
        return {"affected": [(policy, matches_now(policy)) for policy in objects]}


class PolicyChangelogView(ObjectChangelogView):
    queryset = POLICIES
    nav_section = "policies"


class PolicyImportView(PageMixin, View):
    """Upload YAML; the import runs as a background job whose page shows its progress."""

    template_name = "policies/policy_import.html"
    nav_section = "policies"
    title = "Import policies from YAML"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not user_can(request.user, "add"):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get(self, request):
        return self.render({"form": PolicyImportForm(user=request.user)})

    def post(self, request):
        form = PolicyImportForm(request.POST, request.FILES, user=request.user)
        if not form.is_valid():
            return self.render({"form": form})
        cluster = form.cleaned_data["cluster"]
        job = enqueue(
            jobs.import_yaml,
            title=f"YAML import into {cluster.name}",
            user=request.user,
            cluster=cluster.name,
            request_id=str(request.id),
            cluster_id=cluster.pk,
            text=form.cleaned_data["text"],
            message=form.cleaned_data.get("changelog_message", ""),
            ticket_ref=form.cleaned_data.get("ticket_ref", ""),
        )
        messages.info(request, "The import runs in the background; this page follows it.")
        return redirect("core:job_detail", pk=job.pk)
