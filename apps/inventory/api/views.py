"""Inventory endpoints: clusters (CRUD for admins) and read-only observed state."""

from __future__ import annotations

from apps.core.api.viewsets import ScopedModelViewSet, ScopedReadOnlyViewSet

from .. import filtersets
from ..models import (
    Attachment,
    BranchENI,
    Cluster,
    Node,
    Pod,
    SecurityGroup,
    ServiceAccount,
    TrunkENI,
)
from . import serializers


class ClusterViewSet(ScopedModelViewSet):
    """Clusters. Anyone with a role on a cluster sees it; only admins create or change one."""

    queryset = Cluster.objects.all()
    serializer_class = serializers.ClusterSerializer
    filterset_class = filtersets.ClusterFilterSet
    write_action = "admin"


class NodeViewSet(ScopedReadOnlyViewSet):
    queryset = Node.objects.select_related("cluster")
    serializer_class = serializers.NodeSerializer
    filterset_class = filtersets.NodeFilterSet


class ServiceAccountViewSet(ScopedReadOnlyViewSet):
    queryset = ServiceAccount.objects.select_related("cluster")
    serializer_class = serializers.ServiceAccountSerializer
    filterset_class = filtersets.ServiceAccountFilterSet


class PodViewSet(ScopedReadOnlyViewSet):
    queryset = Pod.objects.select_related("cluster")
    serializer_class = serializers.PodSerializer
    filterset_class = filtersets.PodFilterSet


class SecurityGroupViewSet(ScopedReadOnlyViewSet):
    queryset = SecurityGroup.objects.select_related("cluster")
    serializer_class = serializers.SecurityGroupSerializer
    filterset_class = filtersets.SecurityGroupFilterSet


class TrunkENIViewSet(ScopedReadOnlyViewSet):
    queryset = TrunkENI.objects.select_related("cluster", "node")
    serializer_class = serializers.TrunkENISerializer
    filterset_class = filtersets.TrunkENIFilterSet


class BranchENIViewSet(ScopedReadOnlyViewSet):
    queryset = BranchENI.objects.select_related("cluster", "trunk")
    serializer_class = serializers.BranchENISerializer
    filterset_class = filtersets.BranchENIFilterSet


class AttachmentViewSet(ScopedReadOnlyViewSet):
    """Attachment history; ``?ip=&at=`` finds who held an IP at an instant."""

    queryset = Attachment.objects.select_related("cluster")
    serializer_class = serializers.AttachmentSerializer
    filterset_class = filtersets.AttachmentFilterSet
