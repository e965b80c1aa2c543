"""Filters for inventory lists; the same FilterSets serve the API and the UI forms."""

from __future__ import annotations

import django_filters as filters
from django.db.models import Q

from apps.core.filtersets import InstantFilter, IntegerFilter, IPAddressFilter

from .models import (
    Attachment,
    BranchENI,
    BranchENIState,
    Cluster,
    Node,
    Pod,
    SecurityGroup,
    ServiceAccount,
    TrunkENI,
)


class ClusterScopedFilterSet(filters.FilterSet):
    cluster = filters.CharFilter(field_name="cluster__name", label="Cluster name")
    cluster_id = IntegerFilter(field_name="cluster_id", label="Cluster id")


class ClusterFilterSet(filters.FilterSet):
    name = filters.CharFilter()
    region = filters.CharFilter()
    vpc_id = filters.CharFilter()
    q = filters.CharFilter(method="search", label="Name or description contains")

    class Meta:
        model = Cluster
        fields = ["name", "region", "vpc_id"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(description__icontains=value))


class DeletedFilterMixin(filters.FilterSet):
    deleted = filters.BooleanFilter(
        field_name="deleted_at", lookup_expr="isnull", exclude=True,
        label="Deleted (true) or still present (false)",
    )


class NodeFilterSet(DeletedFilterMixin, ClusterScopedFilterSet):
    name = filters.CharFilter()
    instance_id = filters.CharFilter()
    instance_type = filters.CharFilter()
    managed = filters.BooleanFilter()

    class Meta:
        model = Node
        fields = ["name", "instance_id", "instance_type", "managed"]


class ServiceAccountFilterSet(ClusterScopedFilterSet):
    namespace = filters.CharFilter()
    name = filters.CharFilter()

    class Meta:
        model = ServiceAccount
        fields = ["namespace", "name"]


class PodFilterSet(DeletedFilterMixin, ClusterScopedFilterSet):
    namespace = filters.CharFilter()
    name = filters.CharFilter()
    uid = filters.CharFilter()
    node_name = filters.CharFilter()
    phase = filters.ChoiceFilter(choices=Pod.Phase.choices)
    requests_pod_eni = filters.BooleanFilter()

    class Meta:
        model = Pod
        fields = ["namespace", "name", "uid", "node_name", "phase", "requests_pod_eni"]


class SecurityGroupFilterSet(ClusterScopedFilterSet):
    group_id = filters.CharFilter()
    vpc_id = filters.CharFilter()
    name = filters.CharFilter()

    class Meta:
        model = SecurityGroup
        fields = ["group_id", "vpc_id", "name"]


class TrunkENIFilterSet(ClusterScopedFilterSet):
    node = filters.CharFilter(field_name="node__name", label="Node name")
    eni_id = filters.CharFilter()

    class Meta:
        model = TrunkENI
        fields = ["eni_id"]


class BranchENIFilterSet(ClusterScopedFilterSet):
    node_name = filters.CharFilter()
    eni_id = filters.CharFilter()
    state = filters.ChoiceFilter(choices=BranchENIState.choices)
    pod_uid = filters.CharFilter()
    pod_namespace = filters.CharFilter()
    pod_name = filters.CharFilter()
    private_ip = IPAddressFilter()
    vlan_id = IntegerFilter()

    class Meta:
        model = BranchENI
        fields = ["node_name", "eni_id", "state", "pod_uid", "pod_namespace", "pod_name"]


class AttachmentFilterSet(ClusterScopedFilterSet):
    """``?ip=10.0.1.20&at=<RFC 3339>`` answers "who held this IP then"."""

    ip = IPAddressFilter(field_name="private_ip", label="Private IP address")
    at = InstantFilter(
        method="held_at", label="Held at this instant (since <= at < until, or still open)"
    )
    open = filters.BooleanFilter(field_name="until", lookup_expr="isnull", label="Still open")
    eni_id = filters.CharFilter()
    node_name = filters.CharFilter()
    pod_uid = filters.CharFilter()
    pod_namespace = filters.CharFilter()
    pod_name = filters.CharFilter()

    class Meta:
        model = Attachment
        fields = ["eni_id", "node_name", "pod_uid", "pod_namespace", "pod_name"]

    def held_at(self, queryset, name, value):
        return queryset.filter(Q(since__lte=value) & (Q(until__isnull=True) | Q(until__gt=value)))
