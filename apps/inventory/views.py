"""Inventory pages: nodes with their branch capacity, clusters' usage over time, pods with
their branch ENIs and the reasons for their groups, security groups and who uses them."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import OuterRef, Subquery
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.views import View

from apps.accounts.scoping import user_can
from apps.controller.models import GCRun
from apps.core.generic import ObjectDetailView, ObjectListView, PageMixin
from apps.core.generic.charts import Series, step_chart
from apps.policies.explain import explain_pod
from apps.policies.models import Policy

from . import models as inv
from .filtersets import NodeFilterSet, SecurityGroupFilterSet
from .forms import PodListFilterSet
from .tables import BranchTable, NodeTable, PodTable, SecurityGroupTable
from .usage import (
    COOLING_STATES,
    IN_USE_STATES,
    cluster_attachments,
    total_usage,
    usage_history,
    usage_of,
    waiting_pods,
    with_usage,
)

LIVE_NODES = inv.Node.objects.filter(deleted_at__isnull=True)
CHART_HOURS = (1, 6, 24, 168)


def usage_chart(cluster, capacity: int, hours: int, node_name: str | None = None):
    end = timezone.now()
    history = usage_history(
        cluster_attachments(cluster, node_name),
        capacity,
        cluster.branch_cooldown_seconds,
        end - timedelta(hours=hours),
        end,
    )
    series = [
        Series(
            "capacity", "#b42318", [(history.start, capacity), (history.end, capacity)], dashed=True
        ),
        Series("in use", "#2e6fbd", history.in_use),
        Series("cooling", "#f0a43a", history.cooling),
    ]
    title = f"Branch ENIs on {node_name or cluster.name}, last {hours} h"
    return step_chart(series, history.start, history.end, history.peak, title=title)


def chart_hours(request) -> int:
    try:
        hours = int(request.GET.get("hours", 24))
    except ValueError:
        hours = 24
    return hours if hours in CHART_HOURS else 24


class NodeListView(ObjectListView):
    queryset = LIVE_NODES
    filterset_class = NodeFilterSet
    table_class = NodeTable
    title = "Nodes"
    nav_section = "nodes"
    template_name = "inventory/node_list.html"

    def get_queryset(self):
        return with_usage(super().get_queryset())

    def get_extra_context(self):
        user = self.request.user
        clusters = []
        for cluster in inv.Cluster.objects.restrict(user, "view"):
            nodes = with_usage(LIVE_NODES.restrict(user, "view").filter(cluster=cluster))
            unscheduled = (
                waiting_pods().restrict(user, "view").filter(cluster=cluster, node_name="")
            )
            clusters.append(
                {
                    "cluster": cluster,
                    "usage": total_usage(nodes),
                    "unscheduled": unscheduled.count(),
                }
            )
        return {"clusters": clusters}


class ClusterUsageView(PageMixin, View):
    template_name = "inventory/cluster_usage.html"
    partial_template_name = "htmx/usage_chart.html"
    nav_section = "nodes"

    def get(self, request, pk):
        cluster = get_object_or_404(inv.Cluster.objects.restrict(request.user, "view"), pk=pk)
        nodes = with_usage(LIVE_NODES.restrict(request.user, "view").filter(cluster=cluster))
        usage = total_usage(nodes)
        hours = chart_hours(request)
        waiting = waiting_pods().restrict(request.user, "view").filter(cluster=cluster)
        table = NodeTable(nodes, request=request, exclude=("cluster",))
        runs = GCRun.objects.restrict(request.user, "view").filter(cluster=cluster)[:10]
        return self.render(
            {
                "cluster": cluster,
                "usage": usage,
                "nodes": table,
                "hours": hours,
                "hour_choices": CHART_HOURS,
                "chart": usage_chart(cluster, usage.capacity, hours),
                "waiting": waiting.order_by("namespace", "name")[:100],
                "title": f"Cluster {cluster.name}",
                "gc_runs": runs,
                "may_operate": user_can(request.user, "admin", cluster.name),
            }
        )


class NodeDetailView(ObjectDetailView):
    queryset = LIVE_NODES.select_related("cluster", "trunk")
    template_name = "inventory/node_detail.html"
    partial_template_name = "htmx/usage_chart.html"  # the page's only htmx part: the chart
    nav_section = "nodes"

    def get_object(self, action="view"):
        return get_object_or_404(
            with_usage(self.queryset.restrict(self.request.user, action)), pk=self.kwargs["pk"]
        )

    def get_extra_context(self, node):
        branches = inv.BranchENI.objects.filter(
            cluster=node.cluster, node_name=node.name, state__in=[*IN_USE_STATES, *COOLING_STATES]
        ).restrict(self.request.user, "view")
        table = BranchTable(branches, request=self.request)
        hours = chart_hours(self.request)
        return {
            "usage": usage_of(node),
            "branches": table,
            "hours": hours,
            "hour_choices": CHART_HOURS,
            "chart": usage_chart(node.cluster, node.branch_capacity, hours, node.name),
            "waiting": waiting_pods()
            .restrict(self.request.user, "view")
            .filter(cluster=node.cluster, node_name=node.name),
            "report": latest_report(node, self.request.user),
        }


def latest_report(node, user):
    """The node agent's last report (one row per node, replaced on every report), its
    report and disagreements cut to the namespaces ``user`` may view."""
    row = inv.NodeReport.objects.filter(cluster=node.cluster, node_name=node.name).first()
    if row is not None:
        row.report, row.disagreements = row.visible_to(user)
    return row


def branch_of_pod(field):
    live = inv.BranchENI.objects.filter(
        cluster=OuterRef("cluster"), pod_uid=OuterRef("uid"), state__in=IN_USE_STATES
    ).order_by("-pk")
    return Subquery(live.values(field)[:1])


PODS = (
    inv.Pod.objects.filter(deleted_at__isnull=True)
    .select_related("cluster")
    .annotate(
        branch_eni_id=branch_of_pod("eni_id"),
        branch_ip=branch_of_pod("private_ip"),
        branch_groups=branch_of_pod("security_group_ids"),
    )
)


class PodListView(ObjectListView):
    queryset = PODS
    filterset_class = PodListFilterSet
    table_class = PodTable
    title = "Pods"
    nav_section = "pods"


class PodDetailView(ObjectDetailView):
    queryset = PODS
    template_name = "inventory/pod_detail.html"
    nav_section = "pods"

    def get_extra_context(self, pod):
        policies = Policy.objects.filter(cluster=pod.cluster, namespace=pod.namespace)
        branches = inv.BranchENI.objects.filter(cluster=pod.cluster, pod_uid=pod.uid).order_by(
            "-pk"
        )
        explanation = explain_pod(pod, policies)
        held = []
        for branch in branches:
            for group in branch.security_group_ids:
                held.append(
                    {"group": group, "branch": branch, "policies": explanation.policies_for(group)}
                )
        return {
            "explanation": explanation,
            "branches": branches,
            "held": held,
            "asked": self.request.GET.get("group", ""),
        }


class SecurityGroupListView(ObjectListView):
    queryset = inv.SecurityGroup.objects.select_related("cluster")
    filterset_class = SecurityGroupFilterSet
    table_class = SecurityGroupTable
    title = "Security groups"
    nav_section = "groups"


class SecurityGroupDetailView(ObjectDetailView):
    queryset = inv.SecurityGroup.objects.select_related("cluster")
    template_name = "inventory/securitygroup_detail.html"
    nav_section = "groups"

    def get_extra_context(self, group):
        user = self.request.user
        policies = (
            Policy.objects.restrict(user, "view")
            .filter(cluster=group.cluster)
            .referencing_group(group.group_id)
        )
        branches = [
            b
            for b in inv.BranchENI.objects.restrict(user, "view")
            .filter(cluster=group.cluster, state__in=IN_USE_STATES)
            .order_by("pod_namespace", "pod_name")
            if group.group_id in (b.security_group_ids or [])
        ]
        return {"policies": policies.select_related("cluster"), "branches": branches}
