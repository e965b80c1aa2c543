"""Policy endpoints: CRUD, what-if preview, YAML import and export."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from apps.accounts.scoping import user_can
from apps.core.api.idempotency import idempotent
from apps.core.api.parsers import YAML_PARSERS, JSONParser
from apps.core.api.viewsets import ScopedModelViewSet, warning_header

from ..filtersets import PolicyFilterSet
from ..models import Policy
from ..yaml_io import render_manifests
from . import serializers
from .imports import import_manifests
from .renderers import YAMLRenderer

WARNING_HEADER_DOC = (
    "Validation warnings (e.g. more groups than EC2's default quota of 5) are returned in a "
    '`Warning` header: `299 - "<field path>: <message>"`, comma-separated.'
)


@extend_schema(description=WARNING_HEADER_DOC)
class PolicyViewSet(ScopedModelViewSet):
    """SecurityGroupPolicies, restricted to the clusters and namespaces of the user's roles."""

    queryset = Policy.objects.select_related("cluster")
    serializer_class = serializers.PolicySerializer
    filterset_class = PolicyFilterSet
    action_permissions = {"preview": "view", "export": "view", "import_manifests": "add"}

    @extend_schema(
        request=serializers.PreviewRequestSerializer,
        responses={200: serializers.PreviewResponseSerializer},
        description="The known pods (not deleted) that a policy with this spec would select "
        "now in the namespace, with the node each runs on. Nothing is saved.",
    )
    @action(detail=False, methods=["post"], pagination_class=None, filterset_class=None)
    def preview(self, request):
        from ..preview import preview_matches

        form = serializers.PreviewRequestSerializer(data=request.data, context={"request": request})
        form.is_valid(raise_exception=True)
        cluster, namespace = form.validated_data["cluster"], form.validated_data["namespace"]
        if not user_can(request.user, "view", cluster.name, namespace):
            raise Http404(f"No namespace {namespace!r} that you can see in {cluster.name}.")
        pods = preview_matches(cluster, namespace, form.validated_data["spec"])
        body = {"cluster": cluster.name, "namespace": namespace, "count": len(pods), "pods": pods}
        return Response(serializers.PreviewResponseSerializer(body).data)

    @extend_schema(
        request={
            "application/json": serializers.ImportRequestSerializer,
            "application/yaml": OpenApiTypes.STR,
        },
        parameters=[
            OpenApiParameter(
                "cluster", str, description="The cluster, when the body is raw YAML."
            ),
        ],
        responses={
            200: serializers.ImportResultSerializer,
            400: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="Nothing imported. Either per-document errors, "
                '`{"documents": [{"document", "line", "path", "reason"}]}` (documents '
                "numbered from 1), or field errors of the request itself, e.g. "
                '`{"cluster": ["..."]}`.',
            ),
        },
        description="Import SecurityGroupPolicy manifests (multi-document YAML, as for kubectl "
        "apply). All documents or none: any refused document refuses the upload, with "
        "per-document errors. " + WARNING_HEADER_DOC,
    )
    @action(
        detail=False, methods=["post"], url_path="import", url_name="import",
        parser_classes=[JSONParser, *YAML_PARSERS], pagination_class=None, filterset_class=None,
    )
    @idempotent
    def import_manifests(self, request):
        data = dict(request.data) if isinstance(request.data, dict) else request.data
        if isinstance(data, dict) and request.content_type.split(";")[0].strip() != "application/json":
            for key in ("cluster", "changelog_message", "ticket_ref"):
                if key in request.query_params:
                    data[key] = request.query_params[key]
        form = serializers.ImportRequestSerializer(data=data, context={"request": request})
        form.is_valid(raise_exception=True)
        values = form.validated_data
        outcome = import_manifests(
            request.user,
            values["cluster"],
            values["manifests"],
            values.get("changelog_message", ""),
            values.get("ticket_ref", ""),
        )
        if outcome.errors:
            return Response(
                {"documents": [error.as_dict() for error in outcome.errors]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        headers = {"Warning": warning_header(outcome.warnings)} if outcome.warnings else {}
        body = {"created": outcome.created, "updated": outcome.updated, "unchanged": outcome.unchanged}
        return Response(body, headers=headers)

    @extend_schema(
        filters=True,
        responses={
            (200, "application/yaml"): OpenApiResponse(
                OpenApiTypes.ANY,
                description="Multi-document YAML: one SecurityGroupPolicy manifest per "
                "document (a comment only, when no policy matches).",
            )
        },
        description="The policies (filtered like the list) as multi-document YAML that "
        "`kubectl apply -f` accepts.",
    )
    @action(
        detail=False, methods=["get"], renderer_classes=[YAMLRenderer, JSONRenderer],
        pagination_class=None,
    )
    def export(self, request):
        policies = self.filter_queryset(self.get_queryset())
        text = render_manifests(policies) or "# No SecurityGroupPolicy matches.\n"
        return Response(text, content_type="application/yaml")
