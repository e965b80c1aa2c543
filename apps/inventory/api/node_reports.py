"""``POST /api/nodes/<name>/report/``: the node agent reports what is really plumbed.

A node token (APIToken with ``node_name``) may report only for its own node; an admin may
report for any node of a cluster they administer (``?cluster=`` names the cluster when they
administer several). The latest
report per node is kept with its disagreements with the controller's records, and can be
read at ``GET /api/node-reports/``.
"""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.permissions import token_of
from apps.core.api.parsers import JSONParser
from apps.core.context import ChangeContext

from ..models import BranchENI, BranchENIState, Cluster, NodeReport
from ..node_reports import ControllerBranch, disagreements, report_errors


def controller_branches(cluster: Cluster, node_name: str) -> list[ControllerBranch]:
    rows = BranchENI.objects.filter(
        cluster=cluster, node_name=node_name, state=BranchENIState.ATTACHED
    ).values_list("pod_namespace", "pod_name", "pod_uid", "vlan_id", "eni_id", "mac", "private_ip")
    return [ControllerBranch(*row) for row in rows]


class NodeReportView(APIView):
    parser_classes = [JSONParser]
    allow_node_tokens = True

    def get_required_action(self, request) -> str:
        token = token_of(request)
        return "add" if token is not None and token.is_node_token else "admin"

    def _cluster_for(self, request, node_name: str) -> Cluster:
        token = token_of(request)
        if token is not None and token.is_node_token:
            if token.node_name != node_name:
                raise exceptions.PermissionDenied(
                    f"This token reports only for node {token.node_name!r}, not {node_name!r}."
                )
            return token.cluster
        name = request.query_params.get("cluster")
        # An admin reports for the clusters they administer (a binding scoped to one cluster
        # does not reach the others).
        clusters = Cluster.objects.restrict(request.user, "admin")
        if name:
            cluster = clusters.filter(name=name).first()
            if cluster is None:
                raise exceptions.ValidationError({"cluster": [f"no cluster named {name!r}"]})
            return cluster
        if clusters.count() != 1:
            raise exceptions.ValidationError({"cluster": ["name the cluster with ?cluster="]})
        return clusters.get()

    @extend_schema(
        request=OpenApiTypes.OBJECT,
        responses={
            202: inline_serializer(
                "NodeReportAccepted",
                {
                    "node": serializers.CharField(),
                    "disagreements": serializers.ListField(child=serializers.DictField()),
                },
            )
        },
        description="The node agent's report of what is plumbed on its node (node tokens).",
    )
    def post(self, request, name: str):
        request._request.change_scope.context = ChangeContext.AGENT
        cluster = self._cluster_for(request, name)
        errors = report_errors(request.data, name)
        if errors:
            raise exceptions.ValidationError(errors)
        found = disagreements(request.data, controller_branches(cluster, name))
        node = request.data["node"]
        NodeReport.objects.update_or_create(
            cluster=cluster,
            node_name=name,
            defaults={
                "received_at": timezone.now(),
                "agent_version": str(node.get("agentVersion", ""))[:64],
                "mode": str(node.get("mode", ""))[:16],
                "report": request.data,
                "disagreements": found,
            },
        )
        return Response({"node": name, "disagreements": found}, status=status.HTTP_202_ACCEPTED)


class NodeReportSerializer(serializers.ModelSerializer):
    cluster = serializers.SlugRelatedField(slug_field="name", read_only=True)

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["report"], data["disagreements"] = instance.visible_to(self.context["request"].user)
        return data

    class Meta:
        model = NodeReport
        fields = [
            "id",
            "cluster",
            "node_name",
            "received_at",
            "agent_version",
            "mode",
            "disagreements",
            "report",
        ]


class NodeReportViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = NodeReportSerializer
    filterset_fields = ["node_name", "cluster__name"]

    def get_queryset(self):
        return NodeReport.objects.select_related("cluster").restrict(self.request.user, "view")
